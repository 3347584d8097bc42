/**
 * The anomaly detectors: properties of the learned burst baseline (fast-check), a scripted
 * fortnight of normal traffic for several agents (false positives counted), and each detector
 * on its own.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Alert } from "../../../server/monitoring/alert.js";
import { AnomalyMonitor, DEFAULT_MONITOR_OPTIONS } from "../../../server/monitoring/anomaly-monitor.js";
import { addressPrefix } from "../../../server/monitoring/known-callers.js";
import type { Observation, SignObservation } from "../../../server/monitoring/observation.js";
import { RateBaseline } from "../../../server/monitoring/rate-baseline.js";
import { DAY, MINUTE, interleave, normalDay, prng, sign, type AgentHabits } from "./traffic.js";

const T0 = Date.parse("2024-05-06T00:00:00Z"); // a Monday
const KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const BUCKET = DEFAULT_MONITOR_OPTIONS.burst.bucketMs;

const habits = (agentId: string, overrides: Partial<AgentHabits> = {}): AgentHabits => ({
  agentId,
  issuerId: "iss_acme",
  keyArn: `${KEY}-${agentId}`,
  startHour: 8,
  endHour: 18,
  peakPerMinute: 5,
  tokens: [`tok_${agentId}_1`, `tok_${agentId}_2`],
  addresses: ["203.0.113.10", "203.0.113.11", "2001:db8::7"],
  ...overrides,
});

/** `counts[i]` signatures spread over bucket i, same token and address: only the rate varies. */
function steadyStream(counts: number[], startMs = T0): SignObservation[] {
  const h = habits("agt_steady");
  const random = prng(7);
  return counts.flatMap((n, i) =>
    Array.from({ length: n }, (_, k) =>
      sign(h, startMs + i * BUCKET + Math.floor(((k + 0.5) * BUCKET) / n), h.tokens[0]!, h.addresses[0]!, random),
    ),
  );
}

const feed = (monitor: AnomalyMonitor, observations: Observation[]): Alert[] =>
  observations.flatMap((o) => monitor.observe(o));

describe("signing-rate burst (learned per agent)", () => {
  const warmup = DEFAULT_MONITOR_OPTIONS.burst.warmupBuckets;

  it("steady traffic (each bucket within ±50 % of its rate) never raises a burst, however long", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.double({ min: 0.5, max: 1.5, noNaN: true }), { minLength: warmup + 10, maxLength: warmup + 150 }),
        (rate, factors) => {
          const monitor = new AnomalyMonitor();
          const alerts = feed(monitor, steadyStream(factors.map((f) => Math.round(rate * f))));
          expect(alerts.filter((a) => a.kind === "signing-burst")).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a 50× burst after warm-up always raises one, within the burst's own bucket", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.double({ min: 0.5, max: 1.5, noNaN: true }), { minLength: warmup, maxLength: warmup + 60 }),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (rate, factors, spread) => {
          const monitor = new AnomalyMonitor();
          const history = steadyStream(factors.map((f) => Math.max(1, Math.round(rate * f))));
          expect(feed(monitor, history)).toEqual([]);
          const burstStart = T0 + (factors.length + 1) * BUCKET;
          const h = habits("agt_steady");
          const random = prng(11);
          const n = 50 * rate;
          // The burst's signatures arrive within `spread` of a bucket.
          const burst = Array.from({ length: n }, (_, k) =>
            sign(h, burstStart + Math.floor((k * spread * BUCKET) / n), h.tokens[0]!, h.addresses[0]!, random),
          );
          const alerts = feed(monitor, burst).filter((a) => a.kind === "signing-burst");
          expect(alerts).toHaveLength(1);
          expect(Date.parse(alerts[0]!.time)).toBeLessThan(burstStart + BUCKET);
          expect(alerts[0]!.evidence.count as number).toBeGreaterThan(alerts[0]!.evidence.threshold as number);
          expect((alerts[0]!.evidence.requestIds as string[]).length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("says nothing before warm-up, whatever the rate", () => {
    const monitor = new AnomalyMonitor();
    expect(feed(monitor, steadyStream([1, 1, 1, 500, 1, 2000]))).toEqual([]);
  });

  it("learns a burst bucket only up to its limit, so a sustained attack keeps standing out", () => {
    const baseline = new RateBaseline(DEFAULT_MONITOR_OPTIONS.burst);
    for (let i = 0; i < warmup; i++) baseline.add(T0 + i * BUCKET, 10);
    const limit = baseline.threshold();
    for (let i = warmup; i < warmup + 5; i++) baseline.add(T0 + i * BUCKET, 1000);
    baseline.advance(T0 + (warmup + 5) * BUCKET);
    expect(baseline.threshold()).toBeLessThan(limit * 1.5);
  });
});

describe("a scripted fortnight of normal traffic", () => {
  const agents = [
    habits("agt_payments", { peakPerMinute: 8 }),
    habits("agt_reports", { peakPerMinute: 0.3, startHour: 6, endHour: 10 }),
    habits("agt_support", { peakPerMinute: 12, startHour: 0, endHour: 24 }),
    habits("agt_night", { peakPerMinute: 2, startHour: 22, endHour: 24 }),
    habits("agt_trader", {
      peakPerMinute: 3,
      startHour: 7,
      endHour: 16,
      addresses: ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"],
    }),
  ];
  const random = prng(2024);
  const days = 14;
  const traffic = interleave(
    agents.flatMap((a) => Array.from({ length: days }, (_, d) => normalDay(a, T0 + d * DAY, random))),
  );

  // One monitor lives through the fortnight, then through the anomalies (the tests run in order).
  const monitor = new AnomalyMonitor();

  it("raises no alert at all (false positives counted)", () => {
    const alerts = feed(monitor, traffic);
    console.log(
      `scripted fortnight: ${traffic.length} signatures by ${agents.length} agents, ${alerts.length} false positives`,
    );
    expect(alerts).toEqual([]);
  });

  it("then flags the same agents' anomalies: 50× from a new address, a new token, 03:00 activity", () => {
    const payments = agents[0]!;
    const attackStart = T0 + days * DAY + 11 * 3_600_000; // 11:00 on day 15, its busy hours
    const burst = Array.from({ length: 8 * 50 }, (_, k) =>
      sign(payments, attackStart + k * 100, payments.tokens[0]!, "192.0.2.66", random),
    );
    const alerts = feed(monitor, burst);
    const kinds = alerts.map((a) => a.kind);
    expect(kinds).toContain("signing-burst");
    expect(kinds).toContain("new-source-address");
    for (const a of alerts) expect(Date.parse(a.time) - attackStart).toBeLessThan(60_000);
    const newAddress = alerts.find((a) => a.kind === "new-source-address")!;
    expect(newAddress).toMatchObject({
      agentId: "agt_payments",
      issuerId: "iss_acme",
      keyArn: payments.keyArn,
      evidence: { sourceAddress: "192.0.2.66" },
    });
    expect(alerts.filter((a) => a.kind === "new-source-address")).toHaveLength(1); // once, then known

    const reports = agents[1]!;
    const night = monitor.observe(
      sign(reports, T0 + days * DAY + 3 * 3_600_000, reports.tokens[0]!, reports.addresses[0]!, random),
    );
    expect(night.map((a) => a.kind)).toEqual(["unusual-hours"]);
    expect(night[0]!.evidence).toMatchObject({ hourUtc: 3 });
    expect(night[0]!.evidence.usualHoursUtc).toEqual([6, 7, 8, 9]);

    const stolen = monitor.observe(
      sign(reports, T0 + days * DAY + 8 * 3_600_000, "tok_unknown", reports.addresses[0]!, random),
    );
    expect(stolen.map((a) => a.kind)).toEqual(["new-token"]);
  });
});

describe("callers, refused attempts, authentication failures", () => {
  const h = habits("agt_one");
  const random = prng(3);
  const history = (n: number) =>
    Array.from({ length: n }, (_, i) => sign(h, T0 + i * MINUTE, h.tokens[i % 2]!, h.addresses[i % 3]!, random));

  it("learns callers silently during warm-up, then reports a new token or address once", () => {
    const monitor = new AnomalyMonitor();
    const early = feed(monitor, [sign(h, T0, "tok_x", "192.0.2.1", random), ...history(80)]);
    expect(early).toEqual([]);
    const t = T0 + 81 * MINUTE;
    expect(monitor.observe(sign(h, t, "tok_new", h.addresses[0]!, random)).map((a) => a.kind)).toEqual(["new-token"]);
    expect(monitor.observe(sign(h, t + 1, "tok_new", h.addresses[0]!, random))).toEqual([]);
    monitor.observe({ type: "token-issued", timeMs: t + 2, agentId: h.agentId, tokenId: "tok_announced" });
    expect(monitor.observe(sign(h, t + 3, "tok_announced", h.addresses[0]!, random))).toEqual([]);
    expect(monitor.observe(sign(h, t + 4, h.tokens[0]!, "::ffff:192.0.2.1", random))).toEqual([]); // the same address, IPv4-mapped
  });

  it("a Sign on a revoked agent alerts at once; repeats within the cooldown are counted into the next alert", () => {
    const monitor = new AnomalyMonitor();
    const refused = (timeMs: number): Observation => ({
      type: "sign-refused",
      timeMs,
      issuerId: "iss_acme",
      agentId: "agt_one",
      keyArn: KEY,
      tokenId: "tok_1",
      sourceAddress: "192.0.2.1",
      code: "ERR_AGENT_REVOKED",
    });
    expect(monitor.observe(refused(T0)).map((a) => [a.kind, a.severity])).toEqual([["key-state", "high"]]);
    expect(feed(monitor, [refused(T0 + MINUTE), refused(T0 + 2 * MINUTE)])).toEqual([]);
    const later = monitor.observe(refused(T0 + DEFAULT_MONITOR_OPTIONS.defaultCooldownMs));
    expect(later).toHaveLength(1);
    expect(later[0]!.evidence).toMatchObject({ code: "ERR_AGENT_REVOKED", suppressedSincePrevious: 2 });
  });

  it("repeated authentication failures against one agent: the sixth in five minutes alerts, naming the sources", () => {
    const monitor = new AnomalyMonitor();
    const fail = (i: number): Observation => ({
      type: "auth-failure",
      timeMs: T0 + i * 1000,
      issuerId: undefined,
      agentId: "agt_one",
      sourceAddress: `192.0.2.${i % 2}`,
      code: "ERR_UNAUTHORIZED",
    });
    expect(feed(monitor, [0, 1, 2, 3, 4].map(fail))).toEqual([]);
    const alerts = monitor.observe(fail(5));
    expect(alerts.map((a) => a.kind)).toEqual(["auth-failures"]);
    expect(alerts[0]!.evidence).toMatchObject({ count: 6, sourceAddresses: ["192.0.2.0", "192.0.2.1"] });
    // Another agent's failures are its own.
    expect(monitor.observe({ ...fail(6), agentId: "agt_two" } as Observation)).toEqual([]);
  });

  it("is deterministic: the same observations raise the same alerts, ids included", () => {
    const obs: Observation[] = [...history(80), sign(h, T0 + 100 * MINUTE, "tok_z", "192.0.2.99", prng(1))];
    const a = feed(new AnomalyMonitor(), obs);
    const b = feed(new AnomalyMonitor(), obs);
    expect(a.length).toBe(2);
    expect(a).toEqual(b);
    expect(a[0]!.id).toMatch(/^alr_[0-9a-f]{24}$/);
  });
});

describe("addressPrefix", () => {
  it("compares addresses by prefix, reading IPv4-mapped IPv6 as IPv4", () => {
    expect(addressPrefix("192.0.2.77", 32, 128)).toBe("192.0.2.77");
    expect(addressPrefix("::ffff:192.0.2.77", 24, 128)).toBe("192.0.2.0/24");
    expect(addressPrefix("2001:DB8:0:0:1::7", 32, 128)).toBe("2001:db8:0:0:1:0:0:7");
    expect(addressPrefix("2001:db8:abcd:12::1", 32, 48)).toBe("2001:db8:abcd:0:0:0:0:0/48");
    expect(addressPrefix("unix-socket", 24, 64)).toBe("unix-socket");
    expect(addressPrefix("1::2::3", 32, 128)).toBe("1::2::3");
  });
});
