/**
 * The steps every batch goes through, whichever runner drives it (pipelined-runner.ts on SQLite,
 * locked-runner.ts on PostgreSQL): drop requests past their deadline, resolve who signs each entry,
 * sequence, sign concurrently, and settle — resolve the committed prefix once it is durable, re-queue
 * or fail the rest. If signature i fails, entries < i are committed (their links are intact) and
 * entries ≥ i are re-queued to be re-sequenced on the new head — never committed with a stale
 * prevHash. A request whose own signature failed is retried a bounded number of times, then fails
 * with the KMS error (503 + Retry-After).
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { ConflictError, KakuninError, KeyStateError, KmsUnavailableError, OverloadedError } from "../errors.js";
import type { CheckpointPublisher } from "./checkpoints.js";
import { PemCache, resolveAgentSigners } from "./certificates.js";
import {
  IssuerQueue,
  sequenceBatch,
  type Appended,
  type Pending,
  type ResolvedSigner,
  type SequencedEntry,
} from "./sequencer.js";
import { firstFailure, signBatch, type SignResult } from "./signer.js";
import { ChainConflictError, type ChainHead, type CommitItem } from "./storage/log-store.js";
import {
  CONFLICT_BACKOFF_MS,
  MAX_KEY_STATE_ATTEMPTS,
  RETRY_BACKOFF_BASE_MS,
  RETRY_BACKOFF_MAX_MS,
  SIGNER_PEM_CACHE_SIZE,
} from "./tuning.js";
import { ENTRY_ALG, type DigestSigner, type LogEntry, type LogSignerInfo } from "./types.js";

export interface AppenderStats {
  batches: number;
  committed: number;
  /** chain-head compare-and-swap conflicts (another writer appended first) */
  conflicts: number;
  /** PostgreSQL: batches that waited for the issuer's chain lock (another instance's batch held it) */
  chainLockWaits: number;
  /** failed KMS signatures (retried or failed) */
  signFailures: number;
  /** SQLite: batches launched while an earlier batch of the same issuer was still signing */
  overlapped: number;
  /** SQLite: in-flight batches discarded (and re-queued) because an earlier one did not commit in full */
  discarded: number;
  largestBatch: number;
}

export interface BatchStepsOptions {
  /** certificates of agents (signer resolution) */
  db: Kysely<Database>;
  custody: DigestSigner;
  logSigner: LogSignerInfo;
  publisher: CheckpointPublisher;
  now: () => Date;
  maxAttempts: number;
  requestDeadlineMs: number;
  maxConflicts: number;
  logger?: { warn(o: object, msg: string): void; error(o: object, msg: string): void } | undefined;
  clockGuard?: { check(now: Date): void } | undefined;
}

export type SignedItem = CommitItem & { appended: Appended; pending: Pending };
export type Ready = { pending: Pending; signer: ResolvedSigner };

/** A sequenced and signed batch: `items` = the committable prefix (entries before the first failed signature). */
export interface Signed {
  entries: SequencedEntry[];
  sigs: SignResult[];
  items: SignedItem[];
}

export class BatchSteps {
  readonly stats: AppenderStats = {
    batches: 0,
    committed: 0,
    conflicts: 0,
    chainLockWaits: 0,
    signFailures: 0,
    overlapped: 0,
    discarded: 0,
    largestBatch: 0,
  };
  private readonly pems = new PemCache(SIGNER_PEM_CACHE_SIZE);

  constructor(private readonly o: BatchStepsOptions) {}

  /**
   * Requests still within their deadline; the others fail now, before anything is signed for them
   * (they waited behind batches KMS did not sign in time), with the KMS error they last saw.
   */
  live(batch: Pending[]): Pending[] {
    if (batch.length > 0 && this.o.clockGuard) {
      try {
        this.o.clockGuard.check(this.o.now());
      } catch (e) {
        for (const p of batch) p.reject(e); // frozen: nothing is sequenced with a wrong time
        return [];
      }
    }
    const t = performance.now();
    if (batch.every((p) => p.deadline > t)) return batch;
    const out: Pending[] = [];
    for (const p of batch) {
      if (p.deadline > t) out.push(p);
      else
        p.reject(
          p.lastError ??
            new KmsUnavailableError(
              `KMS did not sign within the request deadline (${this.o.requestDeadlineMs} ms); retry later`,
              1,
            ),
        );
    }
    return out;
  }

  /** The signer of each request (agent: its ACTIVE certificate now; lifecycle: the log signer). Requests without one are rejected here. */
  async resolveSigners(q: IssuerQueue, batch: Pending[]): Promise<Ready[]> {
    const { o } = this;
    const opAgents = [...new Set(batch.filter((p) => p.req.type === "agent.operation").map((p) => p.req.agent))];
    let agentSigners: Map<string, ResolvedSigner>;
    try {
      agentSigners = await resolveAgentSigners(o.db, q.issuerId, opAgents, this.pems);
    } catch (e) {
      for (const p of batch) p.reject(e);
      return [];
    }
    const logSigner: ResolvedSigner = {
      ref: { cert: o.logSigner.certSerial, key: o.logSigner.keyArn, alg: ENTRY_ALG },
      certificatePem: o.logSigner.certificatePem,
    };
    const ready: Ready[] = [];
    const at = this.o.now().toISOString();
    for (const p of batch) {
      if (p.req.type !== "agent.operation") {
        ready.push({ pending: p, signer: logSigner });
        continue;
      }
      const s = agentSigners.get(p.req.agent);
      if (s?.validity && (at < s.validity.notBefore || at > s.validity.notAfter)) {
        p.reject(
          new ConflictError(
            "ERR_CERTIFICATE_NOT_VALID",
            `Agent ${p.req.agent}'s certificate is not valid at ${at} (${s.validity.notBefore} – ${s.validity.notAfter})`,
          ),
        );
      } else if (s) ready.push({ pending: p, signer: s });
      else p.reject(new ConflictError("ERR_NO_ACTIVE_CERTIFICATE", `Agent ${p.req.agent} has no active certificate`));
    }
    return ready;
  }

  /** Sequence `ready` on `head` (synchronous: seq, prevHash, time, hashes). */
  sequence(head: ChainHead, ready: Ready[]): { entries: SequencedEntry[]; head: ChainHead } {
    const out = sequenceBatch(head, ready, this.o.now());
    this.stats.batches++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, out.entries.length);
    return out;
  }

  /** Sign every entry concurrently; the committable prefix is the entries before the first failed signature. */
  async sign(entries: SequencedEntry[]): Promise<Signed> {
    const sigs = await signBatch(this.o.custody, entries);
    const k = firstFailure(sigs);
    const items: SignedItem[] = [];
    for (let i = 0; i < k; i++) {
      const e = entries[i]!;
      const s = sigs[i]!;
      const entry: LogEntry = { ...e.unsigned, hash: e.hash, sig: s.ok ? s.sig : "" };
      const item: SignedItem = { entry, appended: { entry, signer: e.signer }, pending: e.pending };
      if (e.pending.req.payload) item.payload = e.pending.req.payload;
      if (s.ok && s.requestId !== undefined) item.kmsRequestId = s.requestId;
      items.push(item);
    }
    return { entries, sigs, items };
  }

  /** Sequence `ready` on `head`, sign every entry concurrently; the committable prefix is the entries before the first failed signature. */
  sequenceAndSign(head: ChainHead, ready: Ready[]): Promise<Signed> {
    return this.sign(this.sequence(head, ready).entries);
  }

  /** A batch failed in a way the steps did not settle (should not happen): logged; the caller rejects its requests. */
  logError(e: unknown, issuerId: string): void {
    this.o.logger?.error({ err: e, issuer: issuerId }, "log batch failed");
  }

  /** The commit transaction failed (nothing of this batch is committed): re-queue on a head conflict, else fail the batch. Returns a back-off (ms). */
  commitFailed(q: IssuerQueue, ready: { pending: Pending }[], e: unknown): number {
    q.head = undefined;
    if (e instanceof ChainConflictError) {
      this.stats.conflicts++;
      // Another process appended: re-sequence everything on the new head.
      const again: Pending[] = [];
      for (const r of ready) {
        r.pending.conflicts++;
        if (r.pending.conflicts > this.o.maxConflicts)
          r.pending.reject(new OverloadedError("The log is contended; retry later", 1));
        else again.push(r.pending);
      }
      q.requeueFront(again);
      return CONFLICT_BACKOFF_MS;
    }
    this.o.logger?.error({ err: e, issuer: q.issuerId }, "log commit failed");
    for (const r of ready) r.pending.reject(e);
    return 0;
  }

  /**
   * After the commit returned: resolve the committed prefix once `durable` has (at once if none);
   * fail or re-queue entries ≥ k now. Returns a back-off (ms).
   */
  settle(q: IssuerQueue, { entries, sigs, items }: Signed, durable?: Promise<void>): number {
    const { o } = this;
    const k = items.length;
    if (k > 0) {
      this.stats.committed += k;
      const acknowledge = () => {
        for (const it of items) it.pending.resolve(it.appended);
        o.publisher.notify(q.issuerId);
      };
      if (!durable) acknowledge();
      else {
        durable.then(acknowledge, (e: unknown) => {
          // Committed, but not known to be on disk: never acknowledged (see db/wal-sync.ts).
          o.logger?.error({ err: e, issuer: q.issuerId }, "log commit could not be synced to disk");
          for (const it of items) it.pending.reject(e);
        });
      }
    }
    if (k === entries.length) return 0;

    // Entries ≥ k: fail those whose own signature failed too often, re-queue the rest.
    const again: Pending[] = [];
    let worstAttempts = 0;
    for (let i = k; i < entries.length; i++) {
      const p = entries[i]!.pending;
      const s = sigs[i]!;
      if (!s.ok) {
        this.stats.signFailures++;
        p.attempts++;
        worstAttempts = Math.max(worstAttempts, p.attempts);
        p.lastError = s.error;
        if (!retryable(s.error, p) || p.attempts >= o.maxAttempts || performance.now() >= p.deadline) {
          o.logger?.warn({ err: s.error, issuer: q.issuerId, code: s.error.code }, "log append failed to sign");
          p.reject(s.error);
          continue;
        }
      }
      again.push(p);
    }
    q.requeueFront(again);
    return again.length ? retryBackoffMs(worstAttempts) : 0;
  }
}

/**
 * KMS unavailability is retried. A key-state error on an agent's key means its certificate was
 * superseded or revoked while the request waited: retry once (the next batch re-resolves the
 * agent's active certificate). Anything else fails the request. `p.attempts` counts this failure.
 */
export function retryable(e: KakuninError, p: Pick<Pending, "req" | "attempts">): boolean {
  if (e instanceof KmsUnavailableError) return true;
  if (e instanceof KeyStateError) return p.req.type === "agent.operation" && p.attempts < MAX_KEY_STATE_ATTEMPTS;
  return false;
}

/** Back-off before the next batch after signatures failed, `worstAttempts` being the most failures of one re-queued request. */
export function retryBackoffMs(worstAttempts: number): number {
  return Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_BASE_MS * 2 ** worstAttempts);
}
