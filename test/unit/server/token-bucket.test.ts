/** The per-agent signing-rate limit: the pure token bucket, and the limiter's buckets and cached limits. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SigningRateLimiter } from "../../../server/authority/signing-rate.js";
import { TokenBucket, type RateLimit } from "../../../server/authority/token-bucket.js";
import { KakuninError } from "../../../server/errors.js";

describe("TokenBucket", () => {
  it("allows the burst at once, then one per refill interval, with Retry-After the whole seconds to the next token", () => {
    const b = new TokenBucket({ perMinute: 60, burst: 3 }, 0);
    expect([b.take(0), b.take(0), b.take(0)].every((r) => r.allowed)).toBe(true);
    expect(b.take(0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(b.take(999)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(b.take(1000)).toEqual({ allowed: true });
    expect(b.take(1000).allowed).toBe(false);
  });

  it("rounds a wait up to whole seconds and never below 1", () => {
    const slow = new TokenBucket({ perMinute: 1, burst: 1 }, 0);
    expect(slow.take(0).allowed).toBe(true);
    expect(slow.take(0)).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(slow.take(59_500)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    const fast = new TokenBucket({ perMinute: 60_000, burst: 1 }, 0);
    expect(fast.take(0).allowed).toBe(true);
    expect(fast.take(0)).toEqual({ allowed: false, retryAfterSeconds: 1 }); // 1 ms away, still "1"
  });

  it("a refusal takes nothing; refill stops at the burst; a clock stepping back refills nothing", () => {
    const b = new TokenBucket({ perMinute: 60, burst: 2 }, 10_000);
    b.take(10_000);
    b.take(10_000);
    for (let i = 0; i < 5; i++) expect(b.take(10_500).allowed).toBe(false);
    expect(b.take(11_000).allowed).toBe(true); // the refused takes did not push the next token back
    expect(b.level(1_000_000)).toBe(2);
    expect(b.isFull(1_000_000)).toBe(true);
    const back = new TokenBucket({ perMinute: 60, burst: 1 }, 5_000);
    back.take(5_000);
    expect(back.take(0).allowed).toBe(false);
    expect(back.take(5_999).allowed).toBe(false);
    expect(back.take(6_000).allowed).toBe(true);
  });

  it("over any schedule, never allows more than burst + perMinute × elapsed minutes, and a waited Retry-After is always enough", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 300 }),
        (perMinute, burst, gaps) => {
          const b = new TokenBucket({ perMinute, burst }, 0);
          let t = 0;
          let allowed = 0;
          for (const gap of gaps) {
            t += gap;
            const r = b.take(t);
            if (r.allowed) allowed++;
            else expect(new TokenBucket(b.limit, 0, b.level(t)).take(r.retryAfterSeconds * 1000).allowed).toBe(true);
          }
          expect(allowed).toBeLessThanOrEqual(burst + Math.floor((perMinute * t) / 60_000));
        },
      ),
    );
  });
});

describe("SigningRateLimiter", () => {
  function limiter(limits: Map<string, RateLimit | null>, o: { cacheMs?: number; maxBuckets?: number } = {}) {
    let now = 0;
    let reads = 0;
    const l = new SigningRateLimiter({
      limitOf: async (issuer) => {
        reads++;
        return limits.get(issuer) ?? null;
      },
      now: () => now,
      ...o,
    });
    return { l, advance: (ms: number) => (now += ms), reads: () => reads };
  }
  const refusal = (p: Promise<void>) =>
    p.then(
      () => undefined,
      (e: KakuninError) => ({ status: e.status, code: e.code, retryAfter: e.retryAfter }),
    );

  it("keeps one bucket per agent; refuses with 429 ERR_RATE_LIMITED and Retry-After; no limit = no bucket", async () => {
    const { l } = limiter(new Map([["iss_a", { perMinute: 30, burst: 1 }]]));
    await l.take("iss_a", "agt_1");
    expect(await refusal(l.take("iss_a", "agt_1"))).toEqual({ status: 429, code: "ERR_RATE_LIMITED", retryAfter: 2 });
    await l.take("iss_a", "agt_2"); // another agent: its own bucket
    for (let i = 0; i < 10; i++) await l.take("iss_b", "agt_3"); // no limit
    expect(l.size).toBe(2);
  });

  it("caches an issuer's limit for cacheMs; forget() applies a change at once; a changed limit keeps what was left", async () => {
    const limits = new Map<string, RateLimit | null>([["iss_a", { perMinute: 60, burst: 2 }]]);
    const { l, advance, reads } = limiter(limits, { cacheMs: 5_000 });
    await Promise.all([l.take("iss_a", "agt_1"), l.take("iss_a", "agt_1")]);
    expect(reads()).toBe(1); // concurrent requests share one read
    limits.set("iss_a", null);
    expect(await refusal(l.take("iss_a", "agt_1"))).toMatchObject({ status: 429 }); // still cached
    l.forget("iss_a");
    await l.take("iss_a", "agt_1"); // lifted at once
    expect(l.size).toBe(0);
    limits.set("iss_a", { perMinute: 60, burst: 5 });
    advance(5_001);
    for (let i = 0; i < 5; i++) await l.take("iss_a", "agt_1");
    expect(await refusal(l.take("iss_a", "agt_1"))).toMatchObject({ status: 429 });
    // Raising the burst does not refill the bucket.
    limits.set("iss_a", { perMinute: 60, burst: 50 });
    advance(5_001); // 5 tokens refilled, cache expired
    for (let i = 0; i < 5; i++) await l.take("iss_a", "agt_1");
    expect(await refusal(l.take("iss_a", "agt_1"))).toMatchObject({ status: 429 });
  });

  it("drops full buckets beyond maxBuckets", async () => {
    const { l, advance } = limiter(new Map([["iss_a", { perMinute: 60, burst: 1 }]]), { maxBuckets: 10 });
    for (let i = 0; i < 10; i++) await l.take("iss_a", `agt_${i}`);
    advance(1_000); // all refilled: the same as no bucket
    await l.take("iss_a", "agt_new");
    expect(l.size).toBe(1);
    // The new agent's take was kept (not swept with the full buckets).
    expect(await refusal(l.take("iss_a", "agt_new"))).toMatchObject({ status: 429 });
  });
});
