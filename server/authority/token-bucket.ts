/**
 * A token bucket: holds at most `burst` signatures, refilled at `perMinute` a minute. Pure: the
 * caller passes the time (milliseconds from any monotonic origin), so tests step it by hand.
 */

/** A signing-rate limit: `perMinute` sustained, up to `burst` at once. */
export interface RateLimit {
  perMinute: number;
  burst: number;
}

/** `allowed`, or not with the whole seconds (≥ 1) until one token will be there. */
export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** A full bucket at `nowMs`, or one holding `tokens` (clamped to the burst), e.g. carried over from a changed limit. */
  constructor(
    readonly limit: RateLimit,
    nowMs: number,
    tokens: number = limit.burst,
  ) {
    this.tokens = Math.min(limit.burst, Math.max(0, tokens));
    this.last = nowMs;
  }

  /** Tokens in the bucket at `nowMs` (fractional). A clock that steps back refills nothing. */
  level(nowMs: number): number {
    const elapsed = Math.max(0, nowMs - this.last);
    return Math.min(this.limit.burst, this.tokens + (elapsed * this.limit.perMinute) / 60_000);
  }

  /** Takes one token if there is one; a refusal takes nothing. */
  take(nowMs: number): TakeResult {
    this.tokens = this.level(nowMs);
    this.last = Math.max(this.last, nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true };
    }
    const waitMs = ((1 - this.tokens) * 60_000) / this.limit.perMinute;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Full again at `nowMs`: the same as no bucket at all (the limiter forgets it). */
  isFull(nowMs: number): boolean {
    return this.level(nowMs) >= this.limit.burst;
  }
}
