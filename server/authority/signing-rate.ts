/**
 * The per-agent signing-rate limit (issue 18): a token bucket per agent, in this process's memory,
 * checked before the append — so a refused request (429 `ERR_RATE_LIMITED`, Retry-After) writes
 * nothing and costs no KMS Sign. Each instance keeps its own buckets: behind N instances an agent
 * may sign up to N times its limit. The issuer's limit is read from `issuer_responses` and cached
 * for `cacheMs` (a change made through another instance applies within that time; one made here
 * at once).
 */
import { RateLimitedError } from "../errors.js";
import { TokenBucket, type RateLimit } from "./token-bucket.js";

export interface SigningRateLimiterOptions {
  /** The issuer's current limit (null: none). */
  limitOf: (issuerId: string) => Promise<RateLimit | null>;
  /** How long an issuer's limit is cached, ms (default 5000). */
  cacheMs?: number;
  /** Above this many buckets, full ones (the same as none) are dropped (default 10 000). */
  maxBuckets?: number;
  /** Monotonic milliseconds (default performance.now). */
  now?: () => number;
}

export class SigningRateLimiter {
  private readonly limits = new Map<string, { limit: Promise<RateLimit | null>; until: number }>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly cacheMs: number;
  private readonly maxBuckets: number;
  private readonly now: () => number;

  constructor(private readonly o: SigningRateLimiterOptions) {
    this.cacheMs = o.cacheMs ?? 5_000;
    this.maxBuckets = o.maxBuckets ?? 10_000;
    this.now = o.now ?? (() => performance.now());
  }

  /** Takes one signature from agent `agentId`'s bucket; throws 429 `ERR_RATE_LIMITED` when it is empty. */
  async take(issuerId: string, agentId: string): Promise<void> {
    const limit = await this.limitOf(issuerId);
    if (!limit) {
      this.buckets.delete(agentId);
      return;
    }
    const now = this.now();
    let bucket = this.buckets.get(agentId);
    if (!bucket || bucket.limit.perMinute !== limit.perMinute || bucket.limit.burst !== limit.burst) {
      // A changed limit keeps what was left (never a fresh burst for free).
      bucket = new TokenBucket(limit, now, bucket ? bucket.level(now) : limit.burst);
      // Swept before the new bucket goes in: a full one would be swept too, and its take lost.
      if (this.buckets.size >= this.maxBuckets) this.sweep(now);
      this.buckets.set(agentId, bucket);
    }
    const r = bucket.take(now);
    if (!r.allowed) throw new RateLimitedError(agentId, r.retryAfterSeconds);
  }

  /** Drops the cached limit of `issuerId` (after this process changed it). */
  forget(issuerId: string): void {
    this.limits.delete(issuerId);
  }

  /** Buckets held (tests, the bound). */
  get size(): number {
    return this.buckets.size;
  }

  private limitOf(issuerId: string): Promise<RateLimit | null> {
    const now = this.now();
    const cached = this.limits.get(issuerId);
    if (cached && cached.until > now) return cached.limit;
    // The promise is cached, so concurrent requests share one read; a failed read is not kept.
    const limit = this.o.limitOf(issuerId);
    this.limits.set(issuerId, { limit, until: now + this.cacheMs });
    limit.catch(() => {
      if (this.limits.get(issuerId)?.limit === limit) this.limits.delete(issuerId);
    });
    return limit;
  }

  private sweep(now: number): void {
    for (const [agentId, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(agentId);
  }
}
