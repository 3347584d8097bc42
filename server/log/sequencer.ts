/**
 * Sequencer: the per-issuer queue, and the step that turns a batch of requests into entries in
 * order — assigning `seq`, `prevHash` and `time`, and computing each entry's canonical bytes and
 * hash. Pure and synchronous apart from the queue, so the chain never waits on KMS to sequence.
 */
import { OverloadedError } from "../errors.js";
import { entryCanonicalText, sha256 } from "./canonical.js";
import type { ChainHead } from "./storage/log-store.js";
import type { EntryType, LogEntry, SignerRef, StoredPayload, UnsignedEntry } from "./types.js";

/** Everything a request contributes to an entry; seq/prevHash/time come from the sequencer. */
export interface AppendRequest {
  issuerId: string;
  type: EntryType;
  agent: string;
  payloadHash: string;
  details?: Record<string, unknown>;
  payload?: StoredPayload;
}

/** Resolved signer for one entry: the certificate + key that will sign it. */
export interface ResolvedSigner {
  ref: SignerRef;
  /** PEM of the signer's certificate (for receipts) */
  certificatePem: string;
  /** the certificate's validity (ISO): an entry is never signed with a time outside it */
  validity?: { notBefore: string; notAfter: string };
}

export interface Appended {
  entry: LogEntry;
  signer: ResolvedSigner;
}

/** A queued request with its promise and retry counters. */
export interface Pending {
  req: AppendRequest;
  /** signing attempts that failed */
  attempts: number;
  /** chain-head compare-and-swap conflicts (another process appended first) */
  conflicts: number;
  /** performance.now() after which the request is no longer retried or sequenced */
  deadline: number;
  /** the last signing error it saw (what it fails with at its deadline) */
  lastError?: unknown;
  resolve(a: Appended): void;
  reject(e: unknown): void;
}

export interface SequencedEntry {
  pending: Pending;
  signer: ResolvedSigner;
  unsigned: UnsignedEntry;
  /** SHA-256 of the canonical bytes (what KMS signs, MessageType=DIGEST) */
  digest: Buffer;
  hash: string;
}

/** FIFO queue of one issuer's pending appends; batches are taken from the front. */
export class IssuerQueue {
  private items: Pending[] = [];
  running = false;
  /** cached committed head; undefined = read it from the database */
  head: ChainHead | undefined;

  constructor(
    readonly issuerId: string,
    private readonly maxQueue: number,
  ) {}

  get length(): number {
    return this.items.length;
  }

  push(p: Pending): void {
    if (this.items.length >= this.maxQueue)
      throw new OverloadedError(`Too many pending log appends for issuer ${this.issuerId}; retry later`, 1);
    this.items.push(p);
    if (this.pushed) {
      this.pushed.resolve();
      this.pushed = undefined;
    }
  }

  private pushed: { promise: Promise<void>; resolve: () => void } | undefined;

  /** Resolves at the next push (the appender waits on it while batches are signing and the queue is empty). */
  nextPush(): Promise<void> {
    if (!this.pushed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.pushed = { promise, resolve };
    }
    return this.pushed.promise;
  }

  /** Put requests back at the front, in their original order (they were sequenced first). */
  requeueFront(ps: Pending[]): void {
    this.items.unshift(...ps);
  }

  /** Put requests back at position `index` (behind `index` requests already re-queued at the front), in order. */
  requeueAt(index: number, ps: Pending[]): void {
    this.items.splice(index, 0, ...ps);
  }

  take(max: number): Pending[] {
    return this.items.splice(0, max);
  }
}

/** Assign seq/prevHash/time in order and hash each entry. */
export function sequenceBatch(
  head: ChainHead,
  items: { pending: Pending; signer: ResolvedSigner }[],
  now: Date,
): { entries: SequencedEntry[]; head: ChainHead } {
  let seq = head.size;
  let prev = head.head;
  const nowIso = now.toISOString();
  // ISO-8601 UTC strings with milliseconds compare lexicographically.
  const time = head.time > nowIso ? head.time : nowIso;
  const entries: SequencedEntry[] = [];
  for (const { pending, signer } of items) {
    const r = pending.req;
    const unsigned: UnsignedEntry = {
      v: 1,
      seq,
      time,
      type: r.type,
      issuer: r.issuerId,
      agent: r.agent,
      signer: signer.ref,
      payloadHash: r.payloadHash,
      prevHash: prev,
    };
    if (r.details !== undefined) unsigned.details = r.details;
    const text = entryCanonicalText(unsigned);
    const digest = sha256(Buffer.from(text, "utf8"));
    const hash = digest.toString("hex");
    // The entry is stored and exported as JSON.stringify({ ...unsigned, hash, sig }). Re-read from
    // the canonical text, its keys are in JCS order, so that JSON carries the canonical bytes
    // verbatim before `hash` and `sig` (what the verifier's fast path recognises; FORMATS.md).
    entries.push({ pending, signer, unsigned: JSON.parse(text) as UnsignedEntry, digest, hash });
    prev = hash;
    seq++;
  }
  return { entries, head: { size: seq, head: prev, time: entries.length ? time : head.time } };
}
