/**
 * What the server last saw of KMS, from the calls it makes anyway (no extra traffic on the hot
 * path). `/readyz` reports it; reads that could sign a fresh checkpoint skip KMS while it is
 * degraded and serve what is already signed.
 */
export type KmsState = "ok" | "degraded" | "unknown";

export interface KmsHealthReport {
  state: KmsState;
  /** when the current state began (ISO), if known */
  since?: string;
  /** the last unavailability (operation and error name only: never key material) */
  lastError?: string;
}

export class KmsHealth {
  private lastOk = 0;
  private lastFail = 0;
  private failSince = 0;
  private lastError: string | undefined;

  /** KMS answered (successfully, or with a deterministic refusal: it is up). */
  answered(): void {
    this.lastOk = Date.now();
    this.failSince = 0;
  }

  /** KMS was unreachable, throttling, failing or past its deadline. */
  unavailable(what: string): void {
    const t = Date.now();
    if (this.failSince === 0 || this.lastOk > this.lastFail) this.failSince = t;
    this.lastFail = t;
    this.lastError = what;
  }

  /** Degraded: the latest outcome was an unavailability. */
  get degraded(): boolean {
    return this.lastFail > this.lastOk;
  }

  /** Milliseconds since the last outcome of either kind (Infinity if none). */
  get age(): number {
    const last = Math.max(this.lastOk, this.lastFail);
    return last === 0 ? Infinity : Date.now() - last;
  }

  report(): KmsHealthReport {
    if (this.lastOk === 0 && this.lastFail === 0) return { state: "unknown" };
    if (this.degraded)
      return {
        state: "degraded",
        since: new Date(this.failSince).toISOString(),
        ...(this.lastError ? { lastError: this.lastError } : {}),
      };
    return { state: "ok", since: new Date(this.lastOk).toISOString() };
  }
}
