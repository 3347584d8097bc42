/**
 * Fork detection after a database restore.
 *
 * Every checkpoint Kakunin publishes is also appended to a *witness* outside the database: one NDJSON
 * file per issuer under KAKUNIN_WITNESS_DIR (default <DATA_DIR>/witness). In production that
 * directory is a mount of storage the database backups cannot roll back — e.g. an S3 bucket with
 * Object Lock (compliance mode) via a file gateway, or a replicated volume; see server/deploy/README.md.
 *
 * At start-up and before appending, each issuer's chain in the database is compared with the newest
 * witnessed checkpoint (size n, head h). If the database holds fewer than n entries, or its entry
 * n-1 does not hash to h, the database is not the one whose checkpoints were handed out (a restore
 * from an older backup, or a different database): appending would fork a chain that regulators
 * already hold checkpoints for. That issuer's chain is then *frozen*: appends (and new checkpoints)
 * fail with 503 `ERR_CHAIN_FORK_SUSPECTED`, logged at error level, until an operator either restores
 * the missing entries or records an explicit, witnessed acknowledgement
 * (`npm run server -- --acknowledge-fork <issuer id>`), which is itself appended to the witness.
 */
import { open, readdir, stat } from "node:fs/promises";
import { ensurePrivateDir, PRIVATE_FILE_MODE, tightenIfPresent } from "../db/private-files.js";
import { join } from "node:path";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { KakuninError } from "../errors.js";
import { AuditLog, type AuditLogOptions } from "../log/audit-log.js";
import { ZERO_HASH } from "../log/canonical.js";
import type { ExportPlan } from "../log/export.js";
import type { Checkpoint } from "../log/types.js";

export interface WitnessedCheckpoint {
  issuer: string;
  size: number;
  head: string;
  time: string;
  [k: string]: unknown;
}

/** An operator's explicit decision to continue a chain that disagrees with the witness. */
export interface ForkAcknowledgement {
  kind: "fork-acknowledged";
  issuer: string;
  time: string;
  /** the newest witnessed checkpoint the database could not reproduce */
  abandoned: { size: number; head: string } | null;
  /** the database's head at the acknowledgement: the new baseline */
  resumedAt: { size: number; head: string };
  reason: string;
}

export class ChainForkSuspectedError extends KakuninError {
  constructor(issuerId: string, detail: string) {
    super(503, "ERR_CHAIN_FORK_SUSPECTED",
      `The audit log of issuer ${issuerId} is frozen: ${detail}. The database may have been restored from an older backup; an operator must resolve this before anything is appended.`);
  }
}

const ISSUER_RE = /^[A-Za-z0-9_-]{1,128}$/;
const TAIL_BYTES = 256 * 1024;

/** The witness: append-only NDJSON, one file per issuer. */
export class FileWitness {
  private dirReady = false;
  constructor(readonly dir: string) {}

  private file(issuerId: string): string {
    if (!ISSUER_RE.test(issuerId)) throw new Error(`invalid issuer id for the witness: ${issuerId}`);
    return join(this.dir, `${issuerId}.ndjson`);
  }

  /** Append one record durably (O_APPEND + fdatasync): a single write per line. */
  async append(issuerId: string, record: WitnessedCheckpoint | ForkAcknowledgement): Promise<void> {
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
      return (await readdir(this.dir)).filter((f) => f.endsWith(".ndjson")).map((f) => f.slice(0, -".ndjson".length)).filter((i) => ISSUER_RE.test(i));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }

  /**
   * The baseline a database must agree with: the largest witnessed checkpoint recorded after the last
   * fork acknowledgement, or that acknowledgement's `resumedAt` if none follows it. Reads only the
   * file's tail (records are appended in time order; several instances may interleave a little).
   */
  async baseline(issuerId: string): Promise<{ size: number; head: string; from: "checkpoint" | "acknowledgement" } | undefined> {
    const path = this.file(issuerId);
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
    const records: (WitnessedCheckpoint | ForkAcknowledgement)[] = [];
    for (const l of lines) {
      if (!l.trim()) continue;
      try {
        const r = JSON.parse(l);
        if (r && r.issuer === issuerId) records.push(r);
      } catch {
        // a torn last line (crash mid-write) is ignored
      }
    }
    let lastAck = -1;
    records.forEach((r, i) => { if ((r as ForkAcknowledgement).kind === "fork-acknowledged") lastAck = i; });
    let best: { size: number; head: string; from: "checkpoint" | "acknowledgement" } | undefined;
    if (lastAck >= 0) {
      const ack = records[lastAck] as ForkAcknowledgement;
      best = { size: ack.resumedAt.size, head: ack.resumedAt.head, from: "acknowledgement" };
    }
    for (const r of records.slice(lastAck + 1)) {
      const cp = r as WitnessedCheckpoint;
      if (typeof cp.size === "number" && typeof cp.head === "string" && (!best || cp.size > best.size)) best = { size: cp.size, head: cp.head, from: "checkpoint" };
    }
    return best;
  }
}

interface GuardState { verifiedSize: number; checkedAt: number; frozen?: string }

export interface ChainGuardOptions {
  db: Kysely<Database>;
  witness: FileWitness;
  logger: { error(o: object, msg: string): void; info(o: object, msg: string): void };
  /** re-read the witness at most this often per issuer (ms) */
  recheckMs?: number;
}

/** Compares each issuer's chain in the database with the witness; freezes an issuer on disagreement. */
export class ChainGuard {
  private readonly state = new Map<string, GuardState>();
  private readonly recheckMs: number;

  constructor(private readonly o: ChainGuardOptions) {
    this.recheckMs = o.recheckMs ?? 1000;
  }

  /** The frozen reason, or undefined when the database agrees with the witness. */
  async status(issuerId: string, force = false): Promise<string | undefined> {
    let s = this.state.get(issuerId);
    if (s?.frozen) return s.frozen;
    if (s && !force && Date.now() - s.checkedAt < this.recheckMs) return undefined;
    s ??= { verifiedSize: -1, checkedAt: 0 };
    s.checkedAt = Date.now();
    this.state.set(issuerId, s);
    const base = await this.o.witness.baseline(issuerId);
    if (!base || base.size <= s.verifiedSize) return undefined;
    const problem = await this.compare(issuerId, base);
    if (problem) {
      s.frozen = problem;
      this.o.logger.error({ issuer: issuerId, witnessed: base, code: "ERR_CHAIN_FORK_SUSPECTED" },
        `CHAIN FROZEN: ${problem}. The database disagrees with the witnessed checkpoints; appends to this issuer are refused until an operator resolves it (see server/deploy/README.md, "Backups and restores").`);
      return problem;
    }
    s.verifiedSize = base.size;
    return undefined;
  }

  /** Drop what is known about an issuer (after an acknowledgement): the next check starts afresh. */
  forget(issuerId: string): void {
    this.state.delete(issuerId);
  }

  /** Throws ChainForkSuspectedError if the issuer's chain is frozen. */
  async check(issuerId: string): Promise<void> {
    const problem = await this.status(issuerId);
    if (problem) throw new ChainForkSuspectedError(issuerId, problem);
  }

  /** Every witnessed issuer, at start-up. Returns the frozen ones. */
  async checkAll(): Promise<{ issuer: string; problem: string }[]> {
    const out: { issuer: string; problem: string }[] = [];
    for (const issuer of await this.o.witness.issuers()) {
      const problem = await this.status(issuer, true);
      if (problem) out.push({ issuer, problem });
    }
    return out;
  }

  private async compare(issuerId: string, base: { size: number; head: string; from: string }): Promise<string | undefined> {
    const what = base.from === "checkpoint" ? "witnessed checkpoint" : "acknowledged fork baseline";
    if (base.size === 0) return undefined;
    const head = await this.o.db.selectFrom("chain_heads").select(["size", "head"]).where("issuer_id", "=", issuerId).executeTakeFirst();
    const size = head ? Number(head.size) : 0;
    if (size < base.size) return `the database holds ${size} entries but a ${what} covers ${base.size} (head ${base.head})`;
    const row = await this.o.db.selectFrom("entries").select("hash").where("issuer_id", "=", issuerId).where("seq", "=", base.size - 1).executeTakeFirst();
    if (!row) return `entry ${base.size - 1} is missing from the database but a ${what} covers it`;
    if (row.hash !== base.head) return `entry ${base.size - 1} in the database hashes to ${row.hash}, but the ${what} says ${base.head}`;
    return undefined;
  }
}

/** Record the operator's decision to continue an issuer's chain from the database's current head. */
export async function acknowledgeFork(db: Kysely<Database>, witness: FileWitness, issuerId: string, reason: string, now: Date): Promise<ForkAcknowledgement> {
  const head = await db.selectFrom("chain_heads").select(["size", "head"]).where("issuer_id", "=", issuerId).executeTakeFirst();
  const base = await witness.baseline(issuerId);
  const ack: ForkAcknowledgement = {
    kind: "fork-acknowledged",
    issuer: issuerId,
    time: now.toISOString(),
    abandoned: base ? { size: base.size, head: base.head } : null,
    resumedAt: head ? { size: Number(head.size), head: head.head } : { size: 0, head: ZERO_HASH },
    reason,
  };
  await witness.append(issuerId, ack);
  return ack;
}

/**
 * The audit log with the guard and the witness around it (a subclass: the log's own code is
 * untouched). Appends and newly signed checkpoints are refused on a frozen issuer; every checkpoint
 * that leaves the server (issuer and public checkpoint routes, exports) is appended to the witness
 * *before* it is returned, so no regulator can hold a checkpoint the witness does not know.
 */
export class WitnessedAuditLog extends AuditLog {
  private readonly witnessedSize = new Map<string, number>();

  constructor(opts: AuditLogOptions, readonly guard: ChainGuard, readonly witness: FileWitness) {
    super(opts);
  }

  override async appendOperation(...args: Parameters<AuditLog["appendOperation"]>): ReturnType<AuditLog["appendOperation"]> {
    await this.guard.check(args[0]);
    return super.appendOperation(...args);
  }

  override async appendLifecycle(...args: Parameters<AuditLog["appendLifecycle"]>): ReturnType<AuditLog["appendLifecycle"]> {
    await this.guard.check(args[0]);
    return super.appendLifecycle(...args);
  }

  override async checkpoint(issuerId: string): Promise<Checkpoint> {
    await this.guard.check(issuerId);
    return this.witnessed(await super.checkpoint(issuerId));
  }

  override async readCheckpoint(issuerId: string): Promise<{ checkpoint: Checkpoint; size: number }> {
    await this.guard.check(issuerId);
    const r = await super.readCheckpoint(issuerId);
    await this.witnessed(r.checkpoint);
    return r;
  }

  override async publicCheckpoint(issuerId: string): Promise<Checkpoint> {
    await this.guard.check(issuerId);
    return this.witnessed(await super.publicCheckpoint(issuerId));
  }

  override async planExport(...args: Parameters<AuditLog["planExport"]>): Promise<ExportPlan> {
    await this.guard.check(args[0]);
    const plan = await super.planExport(...args);
    await this.witnessed(plan.checkpoint);
    return plan;
  }

  /** Append `cp` to the witness unless a checkpoint at least as large is already witnessed. */
  async witnessed(cp: Checkpoint): Promise<Checkpoint> {
    let known = this.witnessedSize.get(cp.issuer);
    if (known === undefined) {
      known = (await this.witness.baseline(cp.issuer))?.size ?? -1;
      this.witnessedSize.set(cp.issuer, known);
    }
    if (cp.size > known) {
      await this.witness.append(cp.issuer, cp as unknown as WitnessedCheckpoint);
      this.witnessedSize.set(cp.issuer, Math.max(cp.size, this.witnessedSize.get(cp.issuer) ?? -1));
    }
    return cp;
  }
}
