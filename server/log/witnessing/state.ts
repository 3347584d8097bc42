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
