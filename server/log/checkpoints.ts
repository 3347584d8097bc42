/**
 * Checkpoint publisher: signs `{issuer,size,head,time,signer}` with the log key and stores it.
 * Publishes after committed batches (debounced per issuer), and on demand (latest, or for an exact
 * size when an export needs a checkpoint covering its last entry). Concurrent requests for the same
 * checkpoint share one KMS call.
 */
import { KmsUnavailableError } from "../errors.js";
import { base64Encode } from "@kakunin/verifier/formats";
import { checkpointCanonicalBytes, sha256, ZERO_HASH } from "./canonical.js";
import type { LogStore } from "./storage/log-store.js";
import { DEFAULT_CHECKPOINT_DEBOUNCE_MS, DEGRADED_READ_WAIT_MS } from "./tuning.js";
import { ENTRY_ALG, type Checkpoint, type DigestSigner, type LogSignerInfo, type UnsignedCheckpoint } from "./types.js";

export interface CheckpointPublisherOptions {
  store: LogStore;
  custody: DigestSigner;
  logSigner: LogSignerInfo;
  now: () => Date;
  /** publish at most once per this many ms per issuer after appends (0 = publish only on demand; default DEFAULT_CHECKPOINT_DEBOUNCE_MS) */
  debounceMs?: number;
  onError?: (e: unknown) => void;
}

export class CheckpointPublisher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inflight = new Map<string, Promise<Checkpoint>>();
  private closed = false;

  constructor(private readonly o: CheckpointPublisherOptions) {}

  /** Called after a batch is committed: publish a checkpoint soon (trailing debounce). */
  notify(issuerId: string): void {
    const ms = this.o.debounceMs ?? DEFAULT_CHECKPOINT_DEBOUNCE_MS;
    if (this.closed || ms <= 0 || this.timers.has(issuerId)) return;
    const t = setTimeout(() => {
      this.timers.delete(issuerId);
      this.current(issuerId).catch((e) => this.o.onError?.(e));
    }, ms);
    t.unref();
    this.timers.set(issuerId, t);
  }

  /** The latest stored checkpoint (what the public endpoint serves), or undefined. */
  latest(issuerId: string): Promise<Checkpoint | undefined> {
    return this.o.store.latestCheckpoint(issuerId);
  }

  /** A checkpoint covering the chain's current head: the stored one if it does, else a fresh one. */
  async current(issuerId: string): Promise<Checkpoint> {
    const head = await this.o.store.head(issuerId);
    return this.forSize(issuerId, head.size, head.head);
  }

  /** A checkpoint of exactly `size` entries (stored, or signed now and stored). */
  async forSize(issuerId: string, size: number, knownHead?: string): Promise<Checkpoint> {
    const key = `${issuerId}\u0000${size}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const p = this.loadOrSign(issuerId, size, knownHead).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /**
   * For readers: a checkpoint of `size` if one is signed or KMS signs one now; otherwise (KMS
   * degraded or failing) the largest stored checkpoint below `size` — readers wait at most
   * DEGRADED_READ_WAIT_MS on a KMS known to be down. Throws KmsUnavailableError only if nothing at all is signed yet.
   */
  async forRead(issuerId: string, size: number, knownHead?: string): Promise<Checkpoint> {
    const { store } = this.o;
    const exact = await store.checkpointOfSize(issuerId, size);
    if (exact) return exact;
    // While KMS is degraded a reader gives it only DEGRADED_READ_WAIT_MS (enough when it is back);
    // the signature, if it comes later, is stored for the next reader.
    const signing = this.forSize(issuerId, size, knownHead).then(
      (cp) => ({ cp }),
      (e: unknown) => ({ e }),
    );
    const waited = this.o.custody.health?.degraded
      ? await Promise.race([signing, new Promise<undefined>((r) => setTimeout(r, DEGRADED_READ_WAIT_MS))])
      : await signing;
    if (waited && "cp" in waited) return waited.cp;
    if (waited && !(waited.e instanceof KmsUnavailableError)) throw waited.e;
    const below = await store.latestCheckpointBelow(issuerId, size);
    if (below) return below;
    throw new KmsUnavailableError("KMS is unavailable and no checkpoint of this log is signed yet; retry later", 2);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private async loadOrSign(issuerId: string, size: number, knownHead?: string): Promise<Checkpoint> {
    const { store } = this.o;
    const stored = await store.checkpointOfSize(issuerId, size);
    if (stored) return stored;
    let head = knownHead;
    if (head === undefined) {
      if (size === 0) head = ZERO_HASH;
      else {
        head = await store.entryHash(issuerId, size - 1);
        if (head === undefined) throw new Error(`no entry ${size - 1} in the chain of ${issuerId}`);
      }
    }
    const { logSigner } = this.o;
    const unsigned: UnsignedCheckpoint = {
      issuer: issuerId,
      size,
      head,
      time: this.o.now().toISOString(),
      signer: { cert: logSigner.certSerial, key: logSigner.keyArn, alg: ENTRY_ALG },
    };
    const sig = await this.o.custody.signDigest(
      logSigner.keyArn,
      sha256(checkpointCanonicalBytes(unsigned)),
      ENTRY_ALG,
    );
    const cp: Checkpoint = { ...unsigned, sig: base64Encode(sig) };
    await store.storeCheckpoint(cp);
    // Another process may have stored one for this size first: serve the stored one.
    return (await store.checkpointOfSize(issuerId, size)) ?? cp;
  }
}
