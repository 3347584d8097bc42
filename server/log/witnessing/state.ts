/**
 * What the log remembers of each witness: the latest size the witness cosigned (or told us in a 409)
 * for an origin, so the next add-checkpoint sends the right old size and proof. Losing it is harmless
 * (the next request says old 0 and the witness's 409 tells the size), so any store will do.
 */

/** Persist-able state behind an interface; the log v2 wiring backs it with its database. */
export interface CosignedSizes {
  /** The size last known for (witness vkey, origin), or undefined if none is known. */
  get(witnessVkey: string, origin: string): Promise<number | undefined>;
  /** Records the witness's latest size (after a cosignature, or from a 409 body). */
  set(witnessVkey: string, origin: string, size: number): Promise<void>;
}

/** An in-memory {@link CosignedSizes} (tests, and a log that accepts one 409 round trip per restart). */
export class MemoryCosignedSizes implements CosignedSizes {
  readonly #sizes = new Map<string, number>();

  async get(witnessVkey: string, origin: string): Promise<number | undefined> {
    return this.#sizes.get(`${witnessVkey}\n${origin}`);
  }

  async set(witnessVkey: string, origin: string, size: number): Promise<void> {
    this.#sizes.set(`${witnessVkey}\n${origin}`, size);
  }
}

/** A checkpoint below its witness quorum that the log keeps sending to the missing witnesses. */
export interface PendingRetry {
  origin: string;
  issuerId: string;
  size: number;
  /** rounds made so far (0: the first is under way) */
  attempts: number;
  /** when its first round started, ISO 8601 */
  since: string;
  /** when its last round ended, ISO 8601 (= since before the first ended) */
  lastAttemptAt: string;
  /** the configured witnesses without a cosignature after the last round */
  missing: string[];
}

/**
 * The newest checkpoint per origin not known to have its quorum, kept across restarts so a restarted
 * log resumes retrying it (nothing else would: the publisher hands a checkpoint to hooks once).
 */
export interface PendingRetries {
  list(): Promise<PendingRetry[]>;
  get(origin: string): Promise<PendingRetry | undefined>;
  /** Records `p` unless a larger checkpoint of its origin is recorded (a late round of an older one). */
  set(p: PendingRetry): Promise<void>;
  /** The quorum of checkpoint `size` is met: forget the origin's retry if it is of `size` or below. */
  clear(origin: string, size: number): Promise<void>;
}

/** An in-memory {@link PendingRetries} (tests; a log whose retries may stop at a restart). */
export class MemoryPendingRetries implements PendingRetries {
  readonly #rows = new Map<string, PendingRetry>();

  async list(): Promise<PendingRetry[]> {
    return [...this.#rows.values()].map((p) => ({ ...p, missing: [...p.missing] }));
  }

  async get(origin: string): Promise<PendingRetry | undefined> {
    const p = this.#rows.get(origin);
    return p && { ...p, missing: [...p.missing] };
  }

  async set(p: PendingRetry): Promise<void> {
    const have = this.#rows.get(p.origin);
    if (!have || have.size <= p.size) this.#rows.set(p.origin, { ...p, missing: [...p.missing] });
  }

  async clear(origin: string, size: number): Promise<void> {
    const have = this.#rows.get(origin);
    if (have && have.size <= size) this.#rows.delete(origin);
  }
}
