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
 *
 * Log v2 the same way: every signed-note checkpoint the publisher stores is archived verbatim
 * (`treeHook`, tree-archive.ts), and the database's Merkle tree must reproduce the newest archived
 * note (tree-check.ts): a smaller tree, or another root at that size, freezes the issuer too (and
 * the publisher signs nothing for it). Each freeze is reported once per finding (fork-report.ts):
 * logged at error level with the split-view evidence `kakunin-verify consistency` prints
 * (tree-evidence.ts), and handed to `onFork` listeners (the server's `log.fork-suspected` alert).
 */
import { base64Encode } from "../../../verifier/src/formats/index.js";
import { KakuninError } from "../../errors.js";
import type { LogGuard } from "../guard.js";
import type { LogStore } from "../storage/log-store.js";
import type { CheckpointHook, SignedCheckpoint } from "../tree/checkpoint-hooks.js";
import type { Checkpoint } from "../types.js";
import type { ArchivedCheckpoint, Baseline, ForkArchive } from "./archive.js";
import { forkReportText, type ForkReport } from "./fork-report.js";
import type { TreeArchive } from "./tree-archive.js";
import { compareTree, type TreeDisagreement } from "./tree-check.js";
import { treeForkEvidence, type TreeEvidenceSources } from "./tree-evidence.js";

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
  /** the largest archived tree size the database's tree was found to reproduce */
  treeVerifiedSize: number;
  checkedAt: number;
  frozen?: string;
}

export interface ForkGuardOptions {
  store: LogStore;
  archive: ForkArchive;
  logger: { error(o: object, msg: string): void; info(o: object, msg: string): void };
  /** re-read the archive at most this often per issuer (ms; default DEFAULT_RECHECK_MS) */
  recheckMs?: number;
  /** Log v2: the archive of signed notes, and what the split-view evidence is built with. */
  tree?: { archive: TreeArchive; evidence: TreeEvidenceSources };
}

/**
 * Compares each issuer's chain in the database with the archive and freezes an issuer on
 * disagreement; archives every checkpoint the log hands out before it is returned, so no regulator
 * can hold a checkpoint the archive does not know.
 */
export class ForkGuard implements LogGuard {
  readonly archive: ForkArchive;
  /** The log v2 archive, when the guard checks the tree too. */
  readonly treeArchive: TreeArchive | undefined;
  private readonly state = new Map<string, GuardState>();
  private readonly archivedSize = new Map<string, number>();
  private readonly treeArchivedSize = new Map<string, number>();
  private readonly recheckMs: number;
  private readonly reports = new Map<string, ForkReport>();
  private readonly listeners: ((r: ForkReport) => void)[] = [];
  private readonly reporting = new Set<Promise<void>>();
  /** The publisher's hook that archives every stored signed-note checkpoint (add it before any other hook). */
  readonly treeHook: CheckpointHook;

  constructor(private readonly o: ForkGuardOptions) {
    this.archive = o.archive;
    this.treeArchive = o.tree?.archive;
    this.recheckMs = o.recheckMs ?? DEFAULT_RECHECK_MS;
    this.treeHook = {
      name: "fork-guard archive",
      onCheckpoint: (cp) => {
        const p = this.archiveTree(cp).catch((e: unknown) =>
          this.o.logger.error(
            { issuer: cp.issuerId, size: cp.size, err: (e as Error).message },
            "could not archive a published checkpoint in KAKUNIN_WITNESS_DIR: the fork guard cannot check the database against it",
          ),
        );
        this.track(p);
      },
    };
  }

  /** Every report, the ones already made first, then each new one (the server raises each as an alert). */
  onFork(listener: (r: ForkReport) => void): void {
    this.listeners.push(listener);
    for (const r of this.reports.values()) this.tell(listener, r);
  }

  /** The report of a frozen issuer, once it is built. */
  report(issuerId: string): ForkReport | undefined {
    return this.reports.get(issuerId);
  }

  /** Resolves when archiving and reporting under way have finished (start-up, tests). */
  async settled(): Promise<void> {
    while (this.reporting.size > 0) await Promise.allSettled([...this.reporting]);
  }

  /** The frozen reason, or undefined when the database agrees with the archive. */
  async status(issuerId: string, force = false): Promise<string | undefined> {
    let s = this.state.get(issuerId);
    if (s?.frozen) return s.frozen;
    if (s && !force && Date.now() - s.checkedAt < this.recheckMs) return undefined;
    s ??= { verifiedSize: -1, treeVerifiedSize: -1, checkedAt: 0 };
    s.checkedAt = Date.now();
    this.state.set(issuerId, s);
    const base = await this.o.archive.baseline(issuerId);
    const treeBase = await this.o.tree?.archive.baseline(issuerId);
    const checkChain = base !== undefined && base.size > s.verifiedSize;
    const checkTree = treeBase !== undefined && treeBase.size > s.treeVerifiedSize;
    if (!checkChain && !checkTree) return undefined;
    const chainProblem = checkChain ? await this.compare(issuerId, base) : undefined;
    if (checkChain && !chainProblem) s.verifiedSize = base.size;
    const tree = checkTree ? await compareTree(this.o.store, issuerId, treeBase) : undefined;
    if (checkTree && !tree) s.treeVerifiedSize = treeBase.size;
    const problems = [chainProblem, tree && `log v2: ${tree.problem}`].filter((p) => p !== undefined);
    if (problems.length === 0) return undefined;
    const problem = problems.join("; ");
    s.frozen = problem;
    this.o.logger.error(
      {
        issuer: issuerId,
        witnessed: chainProblem ? base : treeBase && { size: treeBase.size, root: treeBase.root },
        code: "ERR_CHAIN_FORK_SUSPECTED",
      },
      `CHAIN FROZEN: ${problem}. The database disagrees with the witnessed checkpoints; appends to this issuer are refused until an operator resolves it (see server/deploy/README.md, "Backups and restores").`,
    );
    this.track(
      this.reportFork(issuerId, problem, chainProblem && base ? { problem: chainProblem, base } : undefined, tree),
    );
    return problem;
  }

  /** Drop what is known about an issuer (after an acknowledgement): the next check starts afresh. */
  forget(issuerId: string): void {
    this.state.delete(issuerId);
    this.reports.delete(issuerId);
    // After an acknowledgement the archive's baseline is the database's head: re-read what is archived.
    this.archivedSize.delete(issuerId);
    this.treeArchivedSize.delete(issuerId);
  }

  /** Throws ChainForkSuspectedError if the issuer's chain is frozen. */
  async check(issuerId: string): Promise<void> {
    const problem = await this.status(issuerId);
    if (problem) throw new ChainForkSuspectedError(issuerId, problem);
  }

  /** Every archived issuer (v1 and v2 archives), at start-up. Returns the frozen ones, their reports built. */
  async checkAll(): Promise<{ issuer: string; problem: string }[]> {
    const out: { issuer: string; problem: string }[] = [];
    const issuers = new Set([...(await this.o.archive.issuers()), ...((await this.o.tree?.archive.issuers()) ?? [])]);
    for (const issuer of [...issuers].sort()) {
      const problem = await this.status(issuer, true);
      if (problem) out.push({ issuer, problem });
    }
    await this.settled();
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

  /** Archive a stored signed note unless a note at least as large is already archived. */
  private async archiveTree(cp: SignedCheckpoint): Promise<void> {
    const tree = this.o.tree;
    if (!tree) return;
    let known = this.treeArchivedSize.get(cp.issuerId);
    if (known === undefined) {
      known = (await tree.archive.baseline(cp.issuerId))?.size ?? -1;
      this.treeArchivedSize.set(cp.issuerId, known);
    }
    if (cp.size <= known) return;
    this.treeArchivedSize.set(cp.issuerId, cp.size);
    await tree.archive.append(cp.issuerId, {
      kind: "tree-checkpoint",
      issuer: cp.issuerId,
      origin: cp.origin,
      size: cp.size,
      root: base64Encode(cp.rootHash),
      time: new Date().toISOString(),
      note: cp.note,
    });
  }

  private async reportFork(
    issuerId: string,
    problem: string,
    chain: { problem: string; base: Baseline } | undefined,
    tree: TreeDisagreement | undefined,
  ): Promise<void> {
    const head = chain && (await this.o.store.head(issuerId));
    const report: ForkReport = {
      issuer: issuerId,
      problem,
      detectedAt: new Date().toISOString(),
      chain:
        chain && head
          ? { problem: chain.problem, archived: chain.base, database: { size: head.size, head: head.head } }
          : null,
      tree: tree && this.o.tree ? await treeForkEvidence(this.o.store, this.o.tree.evidence, issuerId, tree) : null,
    };
    this.o.logger.error({ issuer: issuerId, code: "ERR_CHAIN_FORK_SUSPECTED", fork: report }, forkReportText(report));
    this.reports.set(issuerId, report);
    for (const l of this.listeners) this.tell(l, report);
  }

  private tell(listener: (r: ForkReport) => void, r: ForkReport): void {
    try {
      listener(r);
    } catch (e) {
      this.o.logger.error({ issuer: r.issuer, err: (e as Error).message }, "a fork report listener failed");
    }
  }

  private track(p: Promise<void>): void {
    const q = p.catch((e: unknown) =>
      this.o.logger.error({ err: (e as Error).message }, "the fork guard could not build its report"),
    );
    this.reporting.add(q);
    void q.finally(() => this.reporting.delete(q));
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
