import { describe, expect, it } from "vitest";
import { DEFAULT_MONITOR_OPTIONS } from "../../../server/monitoring/anomaly-monitor.js";
import { scaledMonitorOptions } from "../../../server/monitoring/wiring/time-scale.js";

describe("KAKUNIN_MONITOR_TIME_SCALE", () => {
  it("1 is the defaults", () => {
    expect(scaledMonitorOptions(1)).toEqual(DEFAULT_MONITOR_OPTIONS);
  });

  it("divides every duration and leaves counts alone", () => {
    const s = scaledMonitorOptions(240);
    expect(s.burst.bucketMs).toBe(250);
    expect(s.authFailures.bucketMs).toBe(1_250);
    expect(s.callers.warmupMs).toBe(15_000);
    expect(s.defaultCooldownMs).toBe(3_750);
    expect(s.cooldownMs["unusual-hours"]).toBe(45_000);
    // "once per token/address" stays 0, and counts are unchanged.
    expect(s.cooldownMs["new-token"]).toBe(0);
    expect(s.burst.warmupBuckets).toBe(DEFAULT_MONITOR_OPTIONS.burst.warmupBuckets);
    expect(s.callers.warmupSigns).toBe(DEFAULT_MONITOR_OPTIONS.callers.warmupSigns);
    expect(s.burst.minCount).toBe(DEFAULT_MONITOR_OPTIONS.burst.minCount);
  });
});
