/**
 * Appender: drives each issuer's pipeline — sequencer → signer → committer → checkpoint publisher.
 *
 * While a batch is being signed and committed, new requests queue, and the next batch takes what is
 * queued (up to `maxBatch`). So the chain never waits for one signature before sequencing the next
 * entry, and each batch costs one KMS round trip (its signatures run concurrently) plus one database
 * transaction. On a store with one writer (SQLite) several batches of an issuer overlap
 * (pipelined-runner.ts); on a store that locks chains across instances (PostgreSQL) one runs at a
 * time under the issuer's chain lock (locked-runner.ts). What each batch goes through:
 * batch-steps.ts. A request is resolved only once its commit is on stable storage.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { DEFAULT_REQUEST_DEADLINE_MS } from "../kms/deadline.js";
import { BatchSteps, type AppenderStats } from "./batch-steps.js";
import type { CheckpointPublisher } from "./checkpoints.js";
import { LockedRunner } from "./locked-runner.js";
import { PipelinedRunner } from "./pipelined-runner.js";
import { IssuerQueue, type AppendRequest, type Appended } from "./sequencer.js";
import type { LogStore } from "./storage/log-store.js";
import {
  DEFAULT_LAUNCH_INTERVAL_MS,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_HEAD_CONFLICTS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_QUEUE,
  DEFAULT_MAX_SIGN_ATTEMPTS,
} from "./tuning.js";
import type { DigestSigner, LogSignerInfo } from "./types.js";

export interface AppenderOptions {
  /** the log's tables */
  store: LogStore;
  /** certificates of agents (who signs an agent's operations) */
  db: Kysely<Database>;
  custody: DigestSigner;
  logSigner: LogSignerInfo;
  publisher: CheckpointPublisher;
  now: () => Date;
  /** entries per batch (default DEFAULT_MAX_BATCH) */
  maxBatch?: number;
  /** pending requests per issuer before OverloadedError (default DEFAULT_MAX_QUEUE) */
  maxQueue?: number;
  /** signing attempts per request before failing it (default DEFAULT_MAX_SIGN_ATTEMPTS) */
  maxAttempts?: number;
  /**
   * A request is not retried, nor sequenced, once this long has passed since it was queued
   * (KAKUNIN_REQUEST_DEADLINE_MS, default DEFAULT_REQUEST_DEADLINE_MS): it fails with
   * ERR_KMS_UNAVAILABLE at most one KMS call timeout after its deadline.
   */
  requestDeadlineMs?: number;
  /** head conflicts per request before failing it (default DEFAULT_MAX_HEAD_CONFLICTS) */
  maxConflicts?: number;
  /**
   * One writer (SQLite): batches of one issuer signing at the same time (default
   * DEFAULT_MAX_IN_FLIGHT). Batch k+1 is sequenced on batch k's last hash while k is still being
   * signed; commits stay strictly in chain order, and if batch k does not commit in full, every
   * later in-flight batch is discarded and re-sequenced. A store that locks chains (PostgreSQL)
   * always runs one batch per issuer (the chain lock is held from head read to commit).
   */
  maxInFlight?: number;
  /** One writer: while a batch is signing, the next one is launched at most this often, unless a full batch is queued (default DEFAULT_LAUNCH_INTERVAL_MS). */
  launchIntervalMs?: number;
  logger?: { warn(o: object, msg: string): void; error(o: object, msg: string): void };
  /** Refuses appends while the server's clock disagrees with the database's (server/log/clock.ts). */
  clockGuard?: { check(now: Date): void };
}

export class Appender {
  private readonly queues = new Map<string, IssuerQueue>();
  private readonly idle = new Set<() => void>();
  private readonly maxQueue: number;
  private readonly requestDeadlineMs: number;
  private readonly steps: BatchSteps;
  private readonly runner: { run(q: IssuerQueue): Promise<void> };

  constructor(private readonly o: AppenderOptions) {
    const maxBatch = o.maxBatch ?? DEFAULT_MAX_BATCH;
    this.maxQueue = o.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.requestDeadlineMs = o.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS;
    this.steps = new BatchSteps({
      db: o.db,
      custody: o.custody,
      logSigner: o.logSigner,
      publisher: o.publisher,
      now: o.now,
      maxAttempts: o.maxAttempts ?? DEFAULT_MAX_SIGN_ATTEMPTS,
      requestDeadlineMs: this.requestDeadlineMs,
      maxConflicts: o.maxConflicts ?? DEFAULT_MAX_HEAD_CONFLICTS,
      logger: o.logger,
      clockGuard: o.clockGuard,
    });
    this.runner = o.store.locksChains
      ? new LockedRunner(this.steps, o.store, maxBatch)
      : new PipelinedRunner(this.steps, o.store, {
          maxBatch,
          maxInFlight: Math.max(1, o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT),
          launchIntervalMs: Math.max(0, o.launchIntervalMs ?? DEFAULT_LAUNCH_INTERVAL_MS),
        });
  }

  get stats(): AppenderStats {
    return this.steps.stats;
  }

  /** Queue one append; resolves once the entry is committed and on stable storage. */
  append(req: AppendRequest): Promise<Appended> {
    let q = this.queues.get(req.issuerId);
    if (!q) {
      q = new IssuerQueue(req.issuerId, this.maxQueue);
      this.queues.set(req.issuerId, q);
    }
    const queue = q;
    return new Promise<Appended>((resolve, reject) => {
      // throws OverloadedError when full
      queue.push({
        req,
        attempts: 0,
        conflicts: 0,
        deadline: performance.now() + this.requestDeadlineMs,
        resolve,
        reject,
      });
      if (!queue.running) {
        queue.running = true;
        void this.run(queue);
      }
    });
  }

  /** Resolves when no issuer has pending or in-flight appends. */
  async drain(): Promise<void> {
    while ([...this.queues.values()].some((q) => q.running)) await new Promise<void>((r) => this.idle.add(r));
    await this.o.store.flushed().catch(() => undefined); // acknowledgements waiting for the last WAL sync
  }

  private async run(q: IssuerQueue): Promise<void> {
    try {
      await this.runner.run(q);
    } finally {
      q.running = false;
      for (const r of this.idle) r();
      this.idle.clear();
    }
  }
}
