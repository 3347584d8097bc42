/**
 * Writes the published log to a folder exactly as the routes serve it (C2SP tlog-tiles paths under
 * `v1/logs/<issuer>/`, plus `v1/logs` and `v1/public/log-keys`), so any static host or object
 * store can serve it beside the portal. Full tiles are immutable and written once; partial tiles
 * are rewritten; each checkpoint is written last (rename), so a reader never sees a checkpoint
 * whose tiles are missing. Entry bundles only when asked (they need the issuer's token online).
 */
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { tilePath, tilesForSize, TILE_WIDTH } from "../../../verifier/src/formats/index.js";
import type { LogV2 } from "./log-v2.js";

export interface TilesWriteReport {
  issuer: string;
  size: number;
  /** files written (full tiles already on disk are not rewritten) */
  written: number;
}

async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** Writes one issuer's log at its latest checkpoint; undefined before the first checkpoint. */
export async function writeIssuerTiles(
  v2: LogV2,
  outDir: string,
  issuerId: string,
  opts: { entries: boolean },
): Promise<TilesWriteReport | undefined> {
  const cp = await v2.latestCheckpoint(issuerId);
  if (!cp) return undefined;
  const base = join(outDir, "v1", "logs", issuerId);
  let written = 0;
  for (const t of tilesForSize(cp.size)) {
    if (t.level === "entries" && !opts.entries) continue;
    const path = join(base, ...tilePath(t).split("/"));
    if (t.width === TILE_WIDTH && existsSync(path)) continue;
    const bytes =
      t.level === "entries" ? await v2.entryBundle(issuerId, t) : await v2.hashTile(issuerId, { ...t, level: t.level });
    if (!bytes) throw new Error(`tile ${tilePath(t)} of ${issuerId} is missing below its checkpoint`);
    await atomicWrite(path, bytes);
    written++;
  }
  await atomicWrite(join(base, "checkpoint"), cp.note);
  return { issuer: issuerId, size: cp.size, written: written + 1 };
}

/** Writes every issuer's log and the two index files. */
export async function writeAllTiles(
  v2: LogV2,
  outDir: string,
  opts: { entries: boolean },
): Promise<TilesWriteReport[]> {
  const logs = await v2.logs();
  const out: TilesWriteReport[] = [];
  for (const l of logs) {
    const r = await writeIssuerTiles(v2, outDir, l.issuer, opts);
    if (r) out.push(r);
  }
  await atomicWrite(join(outDir, "v1", "logs", "index.json"), `${JSON.stringify({ logs })}\n`);
  await atomicWrite(join(outDir, "v1", "public", "log-keys"), (await v2.verifierKeys()).map((k) => `${k}\n`).join(""));
  return out;
}
