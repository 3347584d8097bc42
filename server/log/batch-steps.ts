/**
 * Appender: drives each issuer's pipeline — sequencer → signer → committer → checkpoint publisher.
 *
 * While a batch is being signed and committed, new requests queue, and the next batch takes what is
 * queued (up to `maxBatch`). So the chain never waits for one signature before sequencing the next
 * entry, and each batch costs one KMS round trip (its signatures run concurrently) plus one database
 * transaction. SQLite overlaps several batches of an issuer (runPipelined); PostgreSQL runs one at
 * a time under the issuer's cross-instance chain lock (processBatch).
 *
 * If signature i of a batch fails, entries < i are committed (their links are intact) and entries
 * ≥ i are re-queued to be re-sequenced on the new head — never committed with a stale prevHash.
 * A request whose own signature failed is retried a bounded number of times, then fails with the
 * KMS error (503 + Retry-After). A request is resolved only once its commit is on stable storage.
 */
import type { Kysely } from "kysely";
import type { DialectName } from "../db/connect.js";
import { synchronousCommits, type CommitDurability } from "../db/durability.js";
import { ConflictError, KakuninError, KeyStateError, KmsUnavailableError, OverloadedError } from "../errors.js";
import type { CheckpointPublisher } from "./checkpoints.js";
import { PemCache, resolveAgentSigners } from "./certificates.js";
import { ChainConflictError, lockChain, readHead, writeBatch, type CommitItem } from "./committer.js";
import { IssuerQueue, sequenceBatch, type AppendRequest, type Appended, type ChainHead, type Pending, type ResolvedSigner, type SequencedEntry } from "./sequencer.js";
import type { LogDb } from "./schema.js";
import { firstFailure, signBatch, type SignResult } from "./signer.js";
import { ENTRY_ALG, type DigestSigner, type LogEntry, type LogSignerInfo } from "./types.js";
import { DEFAULT_REQUEST_DEADLINE_MS } from "../kms/deadline.js";

export interface AppenderOptions {
  db: Kysely<LogDb>;
  dialect: DialectName;
  custody: DigestSigner;
  logSigner: LogSignerInfo;
  publisher: CheckpointPublisher;
  now: () => Date;
  /** entries per batch (default 256) */
  maxBatch?: number;
  /** pending requests per issuer before OverloadedError (default 4096) */
  maxQueue?: number;
  /** signing attempts per request before failing it (default 3) */
  maxAttempts?: number;
  /**
   * A request is not retried, nor sequenced, once this long has passed since it was queued
   * (KAKUNIN_REQUEST_DEADLINE_MS, default DEFAULT_REQUEST_DEADLINE_MS): it fails with
   * ERR_KMS_UNAVAILABLE at most one KMS call timeout after its deadline.
   */
  requestDeadlineMs?: number;
  /** head conflicts per request before failing it (default 20) */
  maxConflicts?: number;
  /**
   * SQLite: batches of one issuer signing at the same time (default 4). Batch k+1 is sequenced on
   * batch k's last hash while k is still being signed; commits stay strictly in chain order, and if
   * batch k does not commit in full, every later in-flight batch is discarded and re-sequenced.
   * PostgreSQL always runs one batch per issuer (the chain lock is held from head read to commit).
   */
  maxInFlight?: number;
  /** SQLite: while a batch is signing, the next one is launched at most this often, unless a full batch is queued (default 10 ms). */
  launchIntervalMs?: number;
  /**
   * How batch commits reach stable storage (default: the commit itself is durable). SQLite passes
   * its WAL group sync (db/durability.ts): requests are acknowledged only once it has resolved.
   */
  durability?: CommitDurability;
  logger?: { warn(o: object, msg: string): void; error(o: object, msg: string): void };
  /** Refuses appends while the server's clock disagrees with the database's (server/log/clock.ts). */
  clockGuard?: { check(now: Date): void };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

export class Appender {
  readonly stats: AppenderStats = { batches: 0, committed: 0, conflicts: 0, chainLockWaits: 0, signFailures: 0, overlapped: 0, discarded: 0, largestBatch: 0 };
  private readonly queues = new Map<string, IssuerQueue>();
  private readonly idle = new Set<() => void>();
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly maxAttempts: number;
  private readonly requestDeadlineMs: number;
  private readonly maxConflicts: number;
  private readonly maxInFlight: number;
  private readonly launchIntervalMs: number;
  private readonly durability: CommitDurability;
  private readonly pems = new PemCache();

  constructor(private readonly o: AppenderOptions) {
    this.maxBatch = o.maxBatch ?? 256;
    this.maxQueue = o.maxQueue ?? 4096;
    this.maxAttempts = o.maxAttempts ?? 3;
    this.requestDeadlineMs = o.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS;
    this.maxConflicts = o.maxConflicts ?? 20;
    this.maxInFlight = Math.max(1, o.maxInFlight ?? 4);
    this.launchIntervalMs = Math.max(0, o.launchIntervalMs ?? 10);
    this.durability = o.durability ?? synchronousCommits;
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
      queue.push({ req, attempts: 0, conflicts: 0, deadline: performance.now() + this.requestDeadlineMs, resolve, reject });
      if (!queue.running) {
        queue.running = true;
        void this.run(queue);
      }
    });
  }

  /** Resolves when no issuer has pending or in-flight appends. */
  async drain(): Promise<void> {
    while ([...this.queues.values()].some((q) => q.running)) await new Promise<void>((r) => this.idle.add(r));
    await this.durability.flushed().catch(() => undefined); // acknowledgements waiting for the last WAL sync
  }

  private async run(q: IssuerQueue): Promise<void> {
    if (this.o.dialect !== "postgres") return this.runPipelined(q);
    try {
      while (q.length > 0) {
        const batch = this.live(q.take(this.maxBatch));
        let backoffMs = 0;
        try {
          backoffMs = await this.processBatch(q, batch);
        } catch (e) {
          // Should not happen (processBatch settles every request); never leave a request hanging.
          q.head = undefined;
          this.o.logger?.error({ err: e, issuer: q.issuerId }, "log batch failed");
          for (const p of batch) p.reject(e);
        }
        if (backoffMs > 0) await sleep(backoffMs);
      }
    } finally {
      q.running = false;
      for (const r of this.idle) r();
      this.idle.clear();
    }
  }

  /**
   * SQLite: up to `maxInFlight` batches signing at once, committed in chain order. Each batch is
   * sequenced on the previous in-flight batch's last hash (the speculative tail); a batch is
   * committed only once every batch before it committed in full, so no entry is ever committed
   * with a stale prevHash. When a batch does not commit in full (a signature failed, a head
   * conflict, a database error), the later in-flight batches are discarded once their signatures
   * are back and their requests re-queued, in order, behind the failed batch's retries.
   */
  private async runPipelined(q: IssuerQueue): Promise<void> {
    const p: Pipeline = { inFlight: [], tail: undefined, lastLaunch: -Infinity };
    try {
      while (q.length > 0 || p.inFlight.length > 0) {
        await this.launchBatches(q, p);
        const oldest = p.inFlight[0];
        if (!oldest || !(await this.oldestSigned(q, p, oldest))) continue;
        p.inFlight.shift();
        const { complete, front, backoffMs } = await this.commitSigned(q, oldest);
        if (!complete) await this.discardLater(q, p, front);
        if (backoffMs > 0) await sleep(backoffMs);
      }
    } finally {
      q.running = false;
      for (const r of this.idle) r();
      this.idle.clear();
    }
  }

  /**
   * Launch batches: the first at once; more (while one is signing) at most every launchIntervalMs,
   * or as soon as a full batch is queued, up to maxInFlight. Each is sequenced on the tail.
   */
  private async launchBatches(q: IssuerQueue, p: Pipeline): Promise<void> {
    while (q.length > 0 && p.inFlight.length < this.maxInFlight
      && (p.inFlight.length === 0 || q.length >= this.maxBatch || performance.now() - p.lastLaunch >= this.launchIntervalMs)) {
      const ready = await this.resolveSigners(q, this.live(q.take(this.maxBatch)));
      if (ready.length === 0) continue;
      let base = p.tail ?? q.head;
      if (!base) {
        try {
          base = await readHead(this.o.db, q.issuerId);
        } catch (e) {
          for (const r of ready) r.pending.reject(e);
          continue;
        }
        q.head = base;
      }
      const { entries, head } = this.sequence(base, ready);
      const flight: Flight = { ready, base, signed: this.sign(entries), done: false };
      void flight.signed.finally(() => (flight.done = true));
      if (p.inFlight.length > 0) this.stats.overlapped++;
      p.inFlight.push(flight);
      p.tail = head;
      p.lastLaunch = performance.now();
    }
  }

  /** Wait for the oldest batch's signatures — or for the moment another batch may be launched. True once they are back. */
  private async oldestSigned(q: IssuerQueue, p: Pipeline, oldest: Flight): Promise<boolean> {
    if (oldest.done) return true;
    let timer: NodeJS.Timeout | undefined;
    const waits: Promise<unknown>[] = [oldest.signed];
    if (p.inFlight.length < this.maxInFlight) {
      if (q.length > 0) waits.push(new Promise((r) => (timer = setTimeout(r, Math.max(0, p.lastLaunch + this.launchIntervalMs - performance.now())))));
      else waits.push(q.nextPush());
    }
    await Promise.race(waits);
    if (timer) clearTimeout(timer);
    return oldest.done;
  }

  /**
   * Commit a signed batch on the head it was sequenced on and settle its requests. `complete`:
   * every entry committed; `front`: how many requests settle()/commitFailed() put back at the front
   * of the queue (retries, ahead of anything discarded later).
   */
  private async commitSigned(q: IssuerQueue, f: Flight): Promise<{ complete: boolean; front: number; backoffMs: number }> {
    // settle() and commitFailed() are synchronous, so q.length around them counts what they put
    // back (new requests keep arriving at the back while this awaits).
    try {
      const signed = await f.signed;
      let durable: Promise<void> | undefined;
      if (signed.items.length > 0) {
        try {
          // The loop goes on to the next batch while this one's commit is being synced to disk;
          // its requests are acknowledged once `durable` resolves (settle).
          const c = await this.durability.commit(this.o.db, (trx) => writeBatch(trx, this.o.dialect, q.issuerId, f.base, signed.items));
          q.head = c.value;
          durable = c.durable;
        } catch (e) {
          const before = q.length;
          const backoffMs = this.commitFailed(q, f.ready, e);
          return { complete: false, front: q.length - before, backoffMs };
        }
      }
      const before = q.length;
      const backoffMs = this.settle(q, signed, durable);
      return { complete: signed.items.length === signed.entries.length, front: q.length - before, backoffMs };
    } catch (e) {
      // Should not happen (sign() settles into results); never leave a request hanging.
      q.head = undefined;
      this.o.logger?.error({ err: e, issuer: q.issuerId }, "log batch failed");
      for (const r of f.ready) r.pending.reject(e);
      return { complete: false, front: 0, backoffMs: 0 };
    }
  }

  /**
   * The oldest batch did not commit in full: the later in-flight batches were sequenced on entries
   * that are not in the chain. Wait for their signatures (so nothing is still signing for a request
   * that has moved on), then re-queue their requests behind the `front` retries.
   */
  private async discardLater(q: IssuerQueue, p: Pipeline, front: number): Promise<void> {
    const later = p.inFlight.splice(0);
    this.stats.discarded += later.length;
    await Promise.allSettled(later.map((l) => l.signed));
    q.requeueAt(front, later.flatMap((l) => l.ready.map((r) => r.pending)));
    p.tail = undefined;
  }

  /**
   * PostgreSQL (several instances may append to one chain): the whole batch — head read,
   * sequencing, signing, commit — runs in one transaction holding the issuer's chain lock
   * (lockChain), so another instance's batch waits rather than losing the head CAS and being
   * re-signed. The CAS in writeBatch stays as the safety net. Returns a back-off delay (ms) before
   * the next batch; settles or re-queues every request.
   */
  private async processBatch(q: IssuerQueue, batch: Pending[]): Promise<number> {
    const { o } = this;
    // Who signs each entry: the agent's ACTIVE certificate now, or the log signer.
    const ready = await this.resolveSigners(q, batch);
    if (ready.length === 0) return 0;
    let signed: Signed;
    let next: ChainHead | undefined;
    try {
      signed = await o.db.transaction().execute(async (trx) => {
        if ((await lockChain(trx, o.dialect, q.issuerId)).waited) this.stats.chainLockWaits++;
        const head = await readHead(trx, q.issuerId);
        const s = await this.sequenceAndSign(head, ready);
        if (s.items.length > 0) next = await writeBatch(trx, o.dialect, q.issuerId, head, s.items);
        return s;
      });
    } catch (e) {
      return this.commitFailed(q, ready, e);
    }
    q.head = next ?? q.head;
    return this.settle(q, signed);
  }

  /**
   * Requests still within their deadline; the others fail now, before anything is signed for them
   * (they waited behind batches KMS did not sign in time), with the KMS error they last saw.
   */
  private live(batch: Pending[]): Pending[] {
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
      else p.reject(p.lastError ?? new KmsUnavailableError(`KMS did not sign within the request deadline (${this.requestDeadlineMs} ms); retry later`, 1));
    }
    return out;
  }

  /** The signer of each request (agent: its ACTIVE certificate now; lifecycle: the log signer). Requests without one are rejected here. */
  private async resolveSigners(q: IssuerQueue, batch: Pending[]): Promise<Ready[]> {
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
        p.reject(new ConflictError("ERR_CERTIFICATE_NOT_VALID", `Agent ${p.req.agent}'s certificate is not valid at ${at} (${s.validity.notBefore} – ${s.validity.notAfter})`));
      } else if (s) ready.push({ pending: p, signer: s });
      else p.reject(new ConflictError("ERR_NO_ACTIVE_CERTIFICATE", `Agent ${p.req.agent} has no active certificate`));
    }
    return ready;
  }

  /** Sequence `ready` on `head` (synchronous: seq, prevHash, time, hashes). */
  private sequence(head: ChainHead, ready: Ready[]): { entries: SequencedEntry[]; head: ChainHead } {
    const out = sequenceBatch(head, ready, this.o.now());
    this.stats.batches++;
    this.stats.largestBatch = Math.max(this.stats.largestBatch, out.entries.length);
    return out;
  }

  /** Sign every entry concurrently; the committable prefix is the entries before the first failed signature. */
  private async sign(entries: SequencedEntry[]): Promise<Signed> {
    const sigs = await signBatch(this.o.custody, entries);
    const k = firstFailure(sigs);
    const items: SignedItem[] = [];
    for (let i = 0; i < k; i++) {
      const e = entries[i]!;
      const s = sigs[i]!;
      const entry: LogEntry = { ...e.unsigned, hash: e.hash, sig: s.ok ? s.sig : "" };
      const item: SignedItem = { entry, appended: { entry, signer: e.signer }, pending: e.pending };
      if (e.pending.req.payload) item.payload = e.pending.req.payload;
      items.push(item);
    }
    return { entries, sigs, items };
  }

  /** Sequence `ready` on `head`, sign every entry concurrently; the committable prefix is the entries before the first failed signature. */
  private sequenceAndSign(head: ChainHead, ready: Ready[]): Promise<Signed> {
    return this.sign(this.sequence(head, ready).entries);
  }

  /** The commit transaction failed (nothing of this batch is committed): re-queue on a head conflict, else fail the batch. */
  private commitFailed(q: IssuerQueue, ready: { pending: Pending }[], e: unknown): number {
    q.head = undefined;
    if (e instanceof ChainConflictError) {
      this.stats.conflicts++;
      // Another process appended: re-sequence everything on the new head.
      const again: Pending[] = [];
      for (const r of ready) {
        r.pending.conflicts++;
        if (r.pending.conflicts > this.maxConflicts) r.pending.reject(new OverloadedError("The log is contended; retry later", 1));
        else again.push(r.pending);
      }
      q.requeueFront(again);
      return 5;
    }
    this.o.logger?.error({ err: e, issuer: q.issuerId }, "log commit failed");
    for (const r of ready) r.pending.reject(e);
    return 0;
  }

  /**
   * After the commit returned: resolve the committed prefix once `durable` has (at once if none);
   * fail or re-queue entries ≥ k now. Returns a back-off (ms).
   */
  private settle(q: IssuerQueue, { entries, sigs, items }: Signed, durable?: Promise<void>): number {
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

    // 5. Entries ≥ k: fail those whose own signature failed too often, re-queue the rest.
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
        if (!retryable(s.error, p) || p.attempts >= this.maxAttempts || performance.now() >= p.deadline) {
          o.logger?.warn({ err: s.error, issuer: q.issuerId, code: s.error.code }, "log append failed to sign");
          p.reject(s.error);
          continue;
        }
      }
      again.push(p);
    }
    q.requeueFront(again);
    return again.length ? Math.min(400, 20 * 2 ** worstAttempts) : 0;
  }
}

type SignedItem = CommitItem & { appended: Appended; pending: Pending };
type Ready = { pending: Pending; signer: ResolvedSigner };

/** An issuer's SQLite pipeline: the batches signing, oldest first. */
interface Pipeline {
  inFlight: Flight[];
  /** head after the last in-flight batch (what the next batch is sequenced on) */
  tail: ChainHead | undefined;
  lastLaunch: number;
}

/** A batch being signed (SQLite pipeline): sequenced on `base`, the head it must commit onto. */
interface Flight {
  ready: Ready[];
  base: ChainHead;
  signed: Promise<Signed>;
  /** `signed` has settled */
  done: boolean;
}

/** A sequenced and signed batch: `items` = the committable prefix (entries before the first failed signature). */
interface Signed {
  entries: SequencedEntry[];
  sigs: SignResult[];
  items: SignedItem[];
}

/**
 * KMS unavailability is retried. A key-state error on an agent's key means its certificate was
 * superseded or revoked while the request waited: retry once (the next batch re-resolves the
 * agent's active certificate). Anything else fails the request.
 */
function retryable(e: KakuninError, p: Pending): boolean {
  if (e instanceof KmsUnavailableError) return true;
  if (e instanceof KeyStateError) return p.req.type === "agent.operation" && p.attempts < 2;
  return false;
}
