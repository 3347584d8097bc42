/**
 * The fork guard's archive: every checkpoint Kakunin hands out, appended to one NDJSON file per
 * issuer outside the database, under KAKUNIN_WITNESS_DIR (default <DATA_DIR>/witness). In production
 * that directory is a mount of storage the database backups cannot roll back — e.g. an S3 bucket
 * with Object Lock (compliance mode) via a file gateway, or a replicated volume; see
 * server/deploy/README.md. Operators' fork acknowledgements are appended to the same file.
 */
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ensurePrivateDir, PRIVATE_FILE_MODE, tightenIfPresent } from "../../db/private-files.js";

/** A checkpoint as archived (the checkpoint's JSON, as handed out). */
export interface ArchivedCheckpoint {
  issuer: string;
  size: number;
  head: string;
  time: string;
  [k: string]: unknown;
}

/** An operator's explicit decision to continue a chain that disagrees with the archive. */
export interface ForkAcknowledgement {
  kind: "fork-acknowledged";
  issuer: string;
  time: string;
  /** the newest archived checkpoint the database could not reproduce */
  abandoned: { size: number; head: string } | null;
  /** the database's head at the acknowledgement: the new baseline */
  resumedAt: { size: number; head: string };
  reason: string;
}

/** What a database must agree with (see {@link ForkArchive.baseline}). */
export interface Baseline {
  size: number;
  head: string;
  from: "checkpoint" | "acknowledgement";
}

const ISSUER_RE = /^[A-Za-z0-9_-]{1,128}$/;
/** Only this much of a file's end is read for its baseline. */
const TAIL_BYTES = 256 * 1024;

/** Append-only NDJSON, one file per issuer. */
export class ForkArchive {
  private dirReady = false;
  constructor(readonly dir: string) {}

  /** The issuer's file (throws on an id that cannot be a file name). */
  file(issuerId: string): string {
    if (!ISSUER_RE.test(issuerId)) throw new Error(`invalid issuer id for the witness: ${issuerId}`);
    return join(this.dir, `${issuerId}.ndjson`);
  }

  /** Append one record durably (O_APPEND + fdatasync): a single write per line (tree-archive.ts appends its own records too). */
  async append(issuerId: string, record: ArchivedCheckpoint | ForkAcknowledgement | { issuer: string }): Promise<void> {
    if (!this.dirReady) {
      // As sensitive as the database: 0700 / 0600, and files left 0644 by an older version tightened.
      ensurePrivateDir(this.dir);
      for (const f of await readdir(this.dir)) if (f.endsWith(".ndjson")) tightenIfPresent(join(this.dir, f));
      this.dirReady = true;
    }
    const fh = await open(this.file(issuerId), "a", PRIVATE_FILE_MODE);
    try {
      await fh.write(`${JSON.stringify(record)}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  async issuers(): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((f) => f.endsWith(".ndjson"))
        .map((f) => f.slice(0, -".ndjson".length))
        .filter((i) => ISSUER_RE.test(i));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }

  /**
   * The baseline a database must agree with: the largest archived checkpoint recorded after the last
   * fork acknowledgement, or that acknowledgement's `resumedAt` if none follows it. Reads only the
   * file's tail (records are appended in time order; several instances may interleave a little).
   */
  async baseline(issuerId: string): Promise<Baseline | undefined> {
    const records = await readTail(this.file(issuerId), issuerId);
    return records && baselineOf(records as (ArchivedCheckpoint | ForkAcknowledgement)[]);
  }
}

/**
 * The records of one NDJSON archive file that name `issuerId`, in file order, from its last
 * TAIL_BYTES only (records are appended in time order; several instances may interleave a little);
 * undefined when the file does not exist. A torn last line (crash mid-write) is ignored.
 */
export async function readTail(path: string, issuerId: string): Promise<Record<string, unknown>[] | undefined> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const start = Math.max(0, size - TAIL_BYTES);
  const fh = await open(path, "r");
  let text: string;
  try {
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    text = buf.toString("utf8");
  } finally {
    await fh.close();
  }
  const lines = text.split("\n");
  if (start > 0) lines.shift(); // partial first line
  const records: Record<string, unknown>[] = [];
  for (const l of lines) {
    if (!l.trim()) continue;
    try {
      const r = JSON.parse(l);
      if (r && r.issuer === issuerId) records.push(r);
    } catch {
      // a torn last line (crash mid-write) is ignored
    }
  }
  return records;
}

/** The baseline of an issuer's records, in file order (pure: the file reading is above). */
export function baselineOf(records: readonly (ArchivedCheckpoint | ForkAcknowledgement)[]): Baseline | undefined {
  let lastAck = -1;
  records.forEach((r, i) => {
    if ((r as ForkAcknowledgement).kind === "fork-acknowledged") lastAck = i;
  });
  let best: Baseline | undefined;
  if (lastAck >= 0) {
    const ack = records[lastAck] as ForkAcknowledgement;
    best = { size: ack.resumedAt.size, head: ack.resumedAt.head, from: "acknowledgement" };
  }
  for (const r of records.slice(lastAck + 1)) {
    const cp = r as ArchivedCheckpoint;
    if (typeof cp.size === "number" && typeof cp.head === "string" && (!best || cp.size > best.size))
      best = { size: cp.size, head: cp.head, from: "checkpoint" };
  }
  return best;
}
