/**
 * Tree nodes from a published log's hash tiles (c2sp.org/tlog-tiles): tile L holds the nodes of
 * tree level 8·L; the levels between are hashed up from the tile below. Browser-safe.
 */
import type { Bytes } from "../../formats/bytes.js";
import { VerificationError } from "../../formats/errors.js";
import { HASH_SIZE, hashChildren, hashLeaf } from "../../formats/merkle.js";
import type { NodeId, NodeReader } from "../../formats/proof-build.js";
import { TILE_HEIGHT, TILE_WIDTH } from "../../formats/tiles.js";

/** The hash tile (level, index) whose hashes node `id` is computed from: exactly one, since subtrees are aligned. */
export function tileOfNode(id: NodeId): { level: number; index: number } {
  const level = Math.floor(id.level / TILE_HEIGHT);
  const first = id.index * 2 ** (id.level - level * TILE_HEIGHT);
  return { level, index: Math.floor(first / TILE_WIDTH) };
}

/**
 * The two RFC 9162 hashes, SHA-256(0x00 ‖ data) and SHA-256(0x01 ‖ left ‖ right), for the bulk of
 * the work (every tile's root, every entry's leaf hash). Default {@link WEB_HASHER} (WebCrypto); the
 * CLI passes node:crypto's synchronous ones (no promise and thread-pool job per hash).
 */
export interface TreeHasher {
  leaf(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  children(left: Uint8Array, right: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** The WebCrypto hasher of formats/merkle.ts. */
export const WEB_HASHER: TreeHasher = { leaf: hashLeaf, children: hashChildren };

/** Root of the subtree over a tile's hashes (a full tile: the node one tile level up). */
export async function tileRoot(tile: Uint8Array, hasher: TreeHasher = WEB_HASHER): Promise<Bytes> {
  let layer: Uint8Array[] = [];
  for (let at = 0; at < tile.length; at += HASH_SIZE) layer.push(tile.subarray(at, at + HASH_SIZE));
  if (layer.length === 0 || (layer.length & (layer.length - 1)) !== 0)
    throw new VerificationError("ERR_PROOF", `a tile of ${layer.length} hashes has no single subtree root`);
  while (layer.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2) next.push(await hasher.children(layer[i]!, layer[i + 1]!));
    layer = next;
  }
  return new Uint8Array(layer[0]!) as Bytes;
}

/** The hash tiles kept for computing roots and proofs, as a {@link NodeReader}. */
export class TileNodes implements NodeReader {
  readonly #tiles = new Map<string, Uint8Array>();

  /** Keeps the bytes of hash tile (level, index). */
  keep(level: number, index: number, bytes: Uint8Array): void {
    this.#tiles.set(`${level}/${index}`, bytes);
  }

  has(level: number, index: number): boolean {
    return this.#tiles.has(`${level}/${index}`);
  }

  get(level: number, index: number): Uint8Array | undefined {
    return this.#tiles.get(`${level}/${index}`);
  }

  /** Node (level, index): read from its tile at level 8·L, else hashed up from that tile's hashes. */
  async node(level: number, index: number): Promise<Uint8Array> {
    if (level % TILE_HEIGHT === 0) {
      const t = this.#tiles.get(`${level / TILE_HEIGHT}/${Math.floor(index / TILE_WIDTH)}`);
      const at = (index % TILE_WIDTH) * HASH_SIZE;
      if (!t || t.length < at + HASH_SIZE)
        throw new VerificationError("ERR_PROOF", `no tile kept holds node ${level}/${index}`);
      return t.subarray(at, at + HASH_SIZE);
    }
    return hashChildren(await this.node(level - 1, 2 * index), await this.node(level - 1, 2 * index + 1));
  }

  async readNodes(ids: readonly NodeId[]): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (const id of ids) out.push(await this.node(id.level, id.index));
    return out;
  }
}
