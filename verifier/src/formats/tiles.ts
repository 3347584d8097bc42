/** C2SP tlog-tiles: tile paths, tile maths and entry bundles. A tile holds up to 256 hashes. */
import type { Bytes } from "./bytes.js";
import { VerificationError } from "./errors.js";
import type { NodeId } from "./proof-build.js";

/** Hashes per full tile. */
export const TILE_WIDTH = 256;
/** Tree levels per tile level. */
export const TILE_HEIGHT = 8;

/** A tile: level L (0-63), index N, width W (1-256; 256 = full). `level: "entries"` is an entry bundle. */
export interface Tile {
  level: number | "entries";
  index: number;
  width: number;
}

/** `N` as x-prefixed zero-padded 3-digit groups: 1234067 → `x001/x234/067`. */
export function encodeTileIndex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new VerificationError("ERR_NOTE_FORMAT", "tile index must be a non-negative integer", { field: "index" });
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, "0"));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

/** Path of a tile relative to the log prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. */
export function tilePath(t: Tile): string {
  if (t.level !== "entries" && (!Number.isInteger(t.level) || t.level < 0 || t.level > 63))
    throw new VerificationError("ERR_NOTE_FORMAT", "tile level must be 0-63", { field: "level" });
  if (!Number.isInteger(t.width) || t.width < 1 || t.width > TILE_WIDTH)
    throw new VerificationError("ERR_NOTE_FORMAT", "tile width must be 1-256", { field: "width" });
  const p = `tile/${t.level}/${encodeTileIndex(t.index)}`;
  return t.width === TILE_WIDTH ? p : `${p}.p/${t.width}`;
}

/** Parses a tile path (strictly: no leading zeroes in L or W, exact group shape). */
export function parseTilePath(path: string): Tile {
  const m = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!m) throw new VerificationError("ERR_NOTE_FORMAT", `not a tile path: ${path.slice(0, 80)}`, { field: "path" });
  const level = m[1] === "entries" ? "entries" : Number(m[1]);
  if (level !== "entries" && level > 63)
    throw new VerificationError("ERR_NOTE_FORMAT", "tile level must be 0-63", { field: "level" });
  const groups = m[2]!.split("/");
  if (groups.length > 1 && groups[0] === "x000")
    throw new VerificationError("ERR_NOTE_FORMAT", "tile index has a leading zero group", { field: "index" });
  const index = Number(groups.map((g) => g.replace("x", "")).join(""));
  if (!Number.isSafeInteger(index))
    throw new VerificationError("ERR_NOTE_FORMAT", "tile index too large", { field: "index" });
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (m[3] !== undefined && width >= TILE_WIDTH)
    throw new VerificationError("ERR_NOTE_FORMAT", "partial tile width must be 1-255", { field: "width" });
  return { level, index, width };
}

/** Every tile (hash tiles, level by level, then entry bundles) a tree of `size` publishes. */
export function tilesForSize(size: number): Tile[] {
  const out: Tile[] = [];
  for (let level = 0, span = TILE_WIDTH; level <= 63; level++, span *= TILE_WIDTH) {
    const leavesPerHash = span / TILE_WIDTH;
    const hashes = Math.floor(size / leavesPerHash);
    if (hashes === 0) break;
    const full = Math.floor(hashes / TILE_WIDTH);
    for (let n = 0; n < full; n++) out.push({ level, index: n, width: TILE_WIDTH });
    if (hashes % TILE_WIDTH) out.push({ level, index: full, width: hashes % TILE_WIDTH });
  }
  const full = Math.floor(size / TILE_WIDTH);
  for (let n = 0; n < full; n++) out.push({ level: "entries", index: n, width: TILE_WIDTH });
  if (size % TILE_WIDTH) out.push({ level: "entries", index: full, width: size % TILE_WIDTH });
  return out;
}

/** The tree nodes whose hashes, concatenated, are hash tile `t`: node(8·L, N·256 + i) for i < W. */
export function tileNodes(t: Tile): NodeId[] {
  if (t.level === "entries") throw new VerificationError("ERR_NOTE_FORMAT", "entry bundles hold entries, not nodes");
  const level = t.level * TILE_HEIGHT;
  return Array.from({ length: t.width }, (_, i) => ({ level, index: t.index * TILE_WIDTH + i }));
}

/** Entry bundle: each entry as a big-endian uint16 length then its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Bytes {
  let total = 0;
  for (const e of entries) {
    if (e.length > 0xffff)
      throw new VerificationError("ERR_NOTE_FORMAT", "entry longer than 65535 bytes cannot be bundled", {
        field: "entry",
      });
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out as Bytes;
}

/** Splits an entry bundle; throws on a truncated length or body. */
export function decodeEntryBundle(bundle: Uint8Array): Bytes[] {
  const out: Bytes[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length)
      throw new VerificationError("ERR_NOTE_FORMAT", "entry bundle ends inside a length prefix");
    const len = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + len > bundle.length)
      throw new VerificationError("ERR_NOTE_FORMAT", "entry bundle ends inside an entry");
    out.push(bundle.slice(at + 2, at + 2 + len) as Bytes);
    at += 2 + len;
  }
  return out;
}
