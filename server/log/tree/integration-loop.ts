/**
 * Runs the integrator beside the committer (Tessera's sequence → integrate → publish): after a batch
 * is acknowledged the appender calls {@link TreeIntegrationLoop.notify}; the issuer's tree is then
 * integrated `delayMs` later, off the append path, coalescing every batch committed meanwhile into
 * one transaction. Never more than one integration per issuer per process; between processes
 * (PostgreSQL) the tree_heads CAS and the tree_nodes primary key let exactly one win — the loser
 * rolls back and tries again, finding the tree already advanced.
 */
import type { Kysely } from "kysely";
import type { CommitDurability } from "../../db/durability.js";
import { DEFAULT_INTEGRATE_BATCH, integrate, TreeIntegrationError, type TransactionRunner } from "./integrator.js";
import { TreeNodeStore, type TreeTables } from "./node-store.js";

export interface TreeIntegrationLoopOptions {
  db: Kysely<any>;
  /** How its transactions commit (SQLite: the WAL group sync, not a synchronous fsync on the event loop). */
  durability?: CommitDurability;
  /** Wait after the first notification before integrating (default 20 ms): batches committed meanwhile share the transaction. */
  delayMs?: number;
  /** Entries per integration transaction (default DEFAULT_INTEGRATE_BATCH). */
  maxEntries?: number;
  onError?: (e: unknown, issuerId: string) => void;
  /** Called after an integration advanced an issuer's tree (e.g. to publish a checkpoint). */
  onIntegrated?: (issuerId: string, size: number) => void;
}

/** Another writer got there first: the tree is consistent, only this attempt lost. */
function isConflict(e: unknown): boolean {
  if (e instanceof TreeIntegrationError) return !/missing/.test(e.message);
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_BUSY";
}

export class TreeIntegrationLoop {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  /** Consecutive failures per issuer: the retry waits 1 s, 2 s, … up to 30 s (a full disk, a database restart). */
  private readonly failures = new Map<string, number>();
  private readonly run: TransactionRunner;
  private closed = false;
  /** Integrations that lost to another writer (and were retried). */
  conflicts = 0;

  constructor(private readonly o: TreeIntegrationLoopOptions) {
    const d = o.durability;
    // The tree is a function of the entries: its transaction need not be synced before it is used
    // (after a power loss it is re-integrated identically), so it never waits for the WAL sync.
    this.run = d ? async (db, fn) => (await d.commit(db, fn)).value : (db, fn) => db.transaction().execute(fn);
  }

  /** Entries of `issuerId` were committed: integrate them soon (never on the caller's path). */
  notify(issuerId: string, delayMs = this.o.delayMs ?? 20): void {
    if (this.closed) return;
    if (this.running.has(issuerId)) {
      this.again.add(issuerId);
      return;
    }
    if (this.timers.has(issuerId)) return;
    const t = setTimeout(() => {
      this.timers.delete(issuerId);
      this.start(issuerId);
    }, delayMs);
    t.unref();
    this.timers.set(issuerId, t);
  }

  /** Integrates everything committed so far for `issuerId` (waits for a running integration first); returns the tree's head. */
  async flush(issuerId: string): Promise<{ size: number; root: Uint8Array } | undefined> {
    for (let attempt = 1; ; attempt++) {
      await this.running.get(issuerId)?.catch(() => undefined);
      try {
        await this.integrateAll(issuerId);
        break;
      } catch (e) {
        if (!isConflict(e) || attempt >= 5) throw e;
        this.conflicts++;
      }
    }
    return new TreeNodeStore(this.o.db as Kysely<TreeTables>, issuerId).head();
  }

  /** Start-up catch-up: integrates every issuer whose chain is ahead of its tree (after a crash). */
  async catchUp(): Promise<void> {
    const rows = await (this.o.db as Kysely<any>).selectFrom("chain_heads as c")
      .leftJoin("tree_heads as t", "t.issuer_id", "c.issuer_id")
      .select(["c.issuer_id as issuer_id"])
      .where((eb) => eb.or([eb("t.size", "is", null), eb("t.size", "<", eb.ref("c.size"))]))
      .execute() as { issuer_id: string }[];
    for (const r of rows) this.notify(r.issuer_id);
  }

  /** Stops scheduling and waits for running integrations. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private start(issuerId: string): void {
    let retryMs: number | undefined;
    const p = this.integrateAll(issuerId)
      .then(() => void this.failures.delete(issuerId), (e: unknown) => {
        if (isConflict(e)) {
          this.conflicts++;
          this.again.add(issuerId);
          return;
        }
        const n = (this.failures.get(issuerId) ?? 0) + 1;
        this.failures.set(issuerId, n);
        retryMs = Math.min(30_000, 1000 * 2 ** (n - 1));
        this.o.onError?.(e, issuerId);
      })
      .finally(() => {
        this.running.delete(issuerId);
        if (retryMs !== undefined) {
          this.again.delete(issuerId);
          this.notify(issuerId, retryMs);
        } else if (this.again.delete(issuerId)) this.notify(issuerId);
      });
    this.running.set(issuerId, p);
  }

  private async integrateAll(issuerId: string): Promise<void> {
    const max = this.o.maxEntries ?? DEFAULT_INTEGRATE_BATCH;
    for (;;) {
      const r = await integrate(this.o.db as Kysely<TreeTables>, issuerId, max, this.run);
      if (r.added > 0) this.o.onIntegrated?.(issuerId, r.size);
      if (r.added < max) return;
    }
  }
}
