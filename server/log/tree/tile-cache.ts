/**
 * Full hash tiles are immutable (C2SP tlog-tiles: a full tile never changes once the tree has grown
 * past it), so once read they stay in memory, bounded, least recently used out: serving one is a
 * map lookup instead of 256 node reads. A tile is only put here after it was read within the
 * published tree of an existing issuer, so a hit needs no further check.
 */
import { TILE_WIDTH, type Tile } from "../../../verifier/src/formats/index.js";

/** 4,096 full tiles of 8 KiB: 32 MiB at most. */
export const FULL_TILE_CACHE_TILES = 4096;

export class FullTileCache {
  readonly #tiles = new Map<string, Uint8Array>();
  constructor(private readonly max = FULL_TILE_CACHE_TILES) {}

  /** The cached bytes of a full hash tile (refreshing its place), or undefined. */
  get(issuerId: string, t: Tile): Uint8Array | undefined {
    if (t.level === "entries" || t.width !== TILE_WIDTH) return undefined;
    const key = `${issuerId}/${t.level}/${t.index}`;
    const hit = this.#tiles.get(key);
    if (hit) {
      this.#tiles.delete(key);
      this.#tiles.set(key, hit);
    }
    return hit;
  }

  /** Keeps a full hash tile's bytes; partial tiles and entry bundles are never kept. */
  set(issuerId: string, t: Tile, bytes: Uint8Array): void {
    if (t.level === "entries" || t.width !== TILE_WIDTH) return;
    this.#tiles.set(`${issuerId}/${t.level}/${t.index}`, bytes);
    if (this.#tiles.size > this.max) this.#tiles.delete(this.#tiles.keys().next().value!);
  }
}
