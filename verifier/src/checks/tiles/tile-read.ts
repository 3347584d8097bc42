/**
 * Reading one tile or entry bundle of a published log, with the checks that need nothing else: the
 * byte length a hash tile of its width must have, the partial-tile fallback of c2sp.org/tlog-tiles
 * (a partial tile may be gone once the full one exists; its prefix is the same), and an entry
 * bundle's leaf hashes against its level-0 tile. Browser-safe.
 */
import { bytesEqual } from "../../formats/bytes.js";
import { HASH_SIZE } from "../../formats/merkle.js";
import { decodeEntryBundle, tilePath, TILE_WIDTH, type Tile } from "../../formats/tiles.js";
import { WEB_HASHER, type TreeHasher } from "./tile-nodes.js";

/**
 * Fetches `path` (relative to the log prefix, e.g. `tile/0/x001/234.p/5`): its bytes, or undefined
 * when there is no such file (HTTP 404). Anything else (unreachable, 5xx, a deadline) it throws, and
 * `checkTiles` rejects with that error: the check could not be made.
 */
export type FetchTile = (path: string, kind: "hash" | "entries") => Promise<Uint8Array | undefined>;

/** A problem of one tile: FAILED (the bytes are not the log's) or INDETERMINATE (not served). */
export interface TileProblem {
  level: "FAILED" | "INDETERMINATE";
  message: string;
  seq?: number;
}

/** Fetches `t`, falling back to the full tile's prefix when a partial one is gone (404). */
async function fetchWithFallback(
  fetchTile: FetchTile,
  t: Tile,
  kind: "hash" | "entries",
): Promise<{ bytes: Uint8Array; path: string; full: boolean } | undefined> {
  const path = tilePath(t);
  const bytes = await fetchTile(path, kind);
  if (bytes !== undefined) return { bytes, path, full: false };
  if (t.width === TILE_WIDTH) return undefined;
  const fullPath = tilePath({ ...t, width: TILE_WIDTH });
  const full = await fetchTile(fullPath, kind);
  return full === undefined ? undefined : { bytes: full, path: fullPath, full: true };
}

/** A hash tile's bytes (exactly 32 · width of them), or the problem with it. */
export async function readTile(
  fetchTile: FetchTile,
  t: Tile & { level: number },
  size: number,
): Promise<{ bytes: Uint8Array } | { problem: TileProblem }> {
  const got = await fetchWithFallback(fetchTile, t, "hash");
  if (!got)
    return {
      problem: {
        level: "INDETERMINATE",
        message: `${tilePath(t)} is not served (404), though the checkpoint of size ${size} covers it`,
      },
    };
  const want = (got.full ? TILE_WIDTH : t.width) * HASH_SIZE;
  if (got.bytes.length !== want)
    return {
      problem: {
        level: "FAILED",
        message: `${got.path} is ${got.bytes.length} bytes; a tile of width ${want / HASH_SIZE} is ${want} bytes`,
      },
    };
  return { bytes: got.full ? got.bytes.subarray(0, t.width * HASH_SIZE) : got.bytes };
}

/** At most this many mismatching entries are named per bundle (the count says how many there were). */
const MAX_NAMED = 5;

/** Entry bundle `t`: as many entries as its width, each leaf hash the level-0 tile's hash at its place. */
export async function checkBundle(
  fetchTile: FetchTile,
  t: Tile,
  hashes: Uint8Array,
  size: number,
  hasher: TreeHasher = WEB_HASHER,
): Promise<{ checked: number; problems: TileProblem[] }> {
  const got = await fetchWithFallback(fetchTile, t, "entries");
  if (!got)
    return {
      checked: 0,
      problems: [
        {
          level: "INDETERMINATE",
          message: `${tilePath(t)} is not served (404), though the checkpoint of size ${size} covers it`,
        },
      ],
    };
  let entries: Uint8Array[];
  try {
    entries = decodeEntryBundle(got.bytes);
  } catch (e) {
    return { checked: 0, problems: [{ level: "FAILED", message: `${got.path}: ${(e as Error).message}` }] };
  }
  const want = got.full ? TILE_WIDTH : t.width;
  if (entries.length !== want)
    return {
      checked: 0,
      problems: [{ level: "FAILED", message: `${got.path} holds ${entries.length} entries; its width is ${want}` }],
    };
  const problems: TileProblem[] = [];
  let bad = 0;
  const level0 = tilePath({ level: 0, index: t.index, width: t.width });
  for (let i = 0; i < t.width; i++) {
    const leaf = await hasher.leaf(entries[i]!);
    if (bytesEqual(leaf, hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))) continue;
    const seq = t.index * TILE_WIDTH + i;
    if (++bad <= MAX_NAMED)
      problems.push({
        level: "FAILED",
        seq,
        message: `entry ${seq} (${got.path}, entry ${i}): its leaf hash is not hash ${i} of ${level0}`,
      });
  }
  if (bad > MAX_NAMED)
    problems.push({ level: "FAILED", message: `${got.path}: ${bad - MAX_NAMED} more entries do not match ${level0}` });
  return { checked: t.width - bad, problems };
}

/** Runs `work` over `items` with at most `limit` at once; the first rejection stops new work and rejects. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (!failed && next < items.length) {
        const item = items[next++]!;
        try {
          await work(item);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    }),
  );
}
