/**
 * Fork detection after a database restore: the audit log's guard hook (server/log/guard.ts).
 *
 * Every checkpoint the log hands out is first appended to the archive (archive.ts), outside the
 * database. At start-up and before appending, each issuer's chain in the database is compared with
 * the newest archived checkpoint (size n, head h). If the database holds fewer than n entries, or
 * its entry n-1 does not hash to h, the database is not the one whose checkpoints were handed out
 * (a restore from an older backup, or a different database): appending would fork a chain that
 * regulators already hold checkpoints for. That issuer's chain is then *frozen*: appends (and new
 * checkpoints) fail with 503 `ERR_CHAIN_FORK_SUSPECTED`, logged at error level, until an operator
 * either restores the missing entries or records an explicit acknowledgement in the archive
 * (`npm run server -- --acknowledge-fork <issuer id>`, acknowledge.ts).
 */
import { KakuninError } from "../../errors.js";
import type { LogGuard } from "../guard.js";
import type { LogStore } from "../storage/log-store.js";
import type { Checkpoint } from "../types.js";
import type { ArchivedCheckpoint, Baseline, ForkArchive } from "./archive.js";

export class ChainForkSuspectedError extends KakuninError {
  constructor(issuerId: string, detail: string) {
    super(
      503,
      "ERR_CHAIN_FORK_SUSPECTED",
      `The audit log of issuer ${issuerId} is frozen: ${detail}. The database may have been restored from an older backup; an operator must resolve this before anything is appended.`,
    );
  }
}

/** Re-read the archive at most this often per issuer (ms). */
export const DEFAULT_RECHECK_MS = 1000;

interface GuardState {
  verifiedSize: number;
  checkedAt: number;
  frozen?: string;
}

export interface ForkGuardOptions {
  store: LogStore;
  archive: ForkArchive;
  logger: { error(o: object, msg: string): void; info(o: object, msg: string): void };
  /** re-read the archive at most this often per issuer (ms; default DEFAULT_RECHECK_MS) */
  recheckMs?: number;
}

/**
 * Compares each issuer's chain in the database with the archive and freezes an issuer on
 * disagreement; archives every checkpoint the log hands out before it is returned, so no regulator
 * can hold a checkpoint the archive does not know.
 */
export class ForkGuard implements LogGuard {
  readonly archive: ForkArchive;
  private readonly state = new Map<string, GuardState>();
  private readonly archivedSize = new Map<string, number>();
  private readonly recheckMs: number;

  constructor(private readonly o: ForkGuardOptions) {
    this.archive = o.archive;
    this.recheckMs = o.recheckMs ?? DEFAULT_RECHECK_MS;
  }

  /** The frozen reason, or undefined when the database agrees with the archive. */
  async status(issuerId: string, force = false): Promise<string | undefined> {
    let s = this.state.get(issuerId);
    if (s?.frozen) return s.frozen;
    if (s && !force && Date.now() - s.checkedAt < this.recheckMs) return undefined;
    s ??= { verifiedSize: -1, checkedAt: 0 };
    s.checkedAt = Date.now();
    this.state.set(issuerId, s);
    const base = await this.o.archive.baseline(issuerId);
    if (!base || base.size <= s.verifiedSize) return undefined;
    const problem = await this.compare(issuerId, base);
    if (problem) {
      s.frozen = problem;
      this.o.logger.error(
        { issuer: issuerId, witnessed: base, code: "ERR_CHAIN_FORK_SUSPECTED" },
        `CHAIN FROZEN: ${problem}. The database disagrees with the witnessed checkpoints; appends to this issuer are refused until an operator resolves it (see server/deploy/README.md, "Backups and restores").`,
      );
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

  /** Every archived issuer, at start-up. Returns the frozen ones. */
  async checkAll(): Promise<{ issuer: string; problem: string }[]> {
    const out: { issuer: string; problem: string }[] = [];
    for (const issuer of await this.o.archive.issuers()) {
      const problem = await this.status(issuer, true);
      if (problem) out.push({ issuer, problem });
    }
    return out;
  }

  /** Archive `cp` unless a checkpoint at least as large is already archived. */
  async handingOut(cp: Checkpoint): Promise<void> {
    let known = this.archivedSize.get(cp.issuer);
    if (known === undefined) {
      known = (await this.o.archive.baseline(cp.issuer))?.size ?? -1;
      this.archivedSize.set(cp.issuer, known);
    }
    if (cp.size > known) {
      await this.o.archive.append(cp.issuer, cp as unknown as ArchivedCheckpoint);
      this.archivedSize.set(cp.issuer, Math.max(cp.size, this.archivedSize.get(cp.issuer) ?? -1));
    }
  }

  private async compare(issuerId: string, base: Baseline): Promise<string | undefined> {
    const what = base.from === "checkpoint" ? "witnessed checkpoint" : "acknowledged fork baseline";
    if (base.size === 0) return undefined;
    const { size } = await this.o.store.head(issuerId);
    if (size < base.size)
      return `the database holds ${size} entries but a ${what} covers ${base.size} (head ${base.head})`;
    const hash = await this.o.store.entryHash(issuerId, base.size - 1);
    if (hash === undefined) return `entry ${base.size - 1} is missing from the database but a ${what} covers it`;
    if (hash !== base.head)
      return `entry ${base.size - 1} in the database hashes to ${hash}, but the ${what} says ${base.head}`;
    return undefined;
  }
}
