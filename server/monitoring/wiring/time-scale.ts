import { DEFAULT_MONITOR_OPTIONS, type AnomalyMonitorOptions } from "../anomaly-monitor.js";

/**
 * The detectors' defaults with every duration divided by `scale` (KAKUNIN_MONITOR_TIME_SCALE,
 * drills and tests only: a 60 s bucket and an hour of warm-up become 0.25 s and 15 s at 240).
 * Counts (warm-up signatures, thresholds) are unchanged.
 */
export function scaledMonitorOptions(scale: number): AnomalyMonitorOptions {
  const d = DEFAULT_MONITOR_OPTIONS;
  const t = (ms: number) => Math.max(1, Math.round(ms / scale));
  const cooldownMs: AnomalyMonitorOptions["cooldownMs"] = {};
  for (const [kind, ms] of Object.entries(d.cooldownMs))
    cooldownMs[kind as keyof typeof cooldownMs] = ms === 0 ? 0 : t(ms);
  return {
    ...d,
    burst: { ...d.burst, bucketMs: t(d.burst.bucketMs) },
    authFailures: { ...d.authFailures, bucketMs: t(d.authFailures.bucketMs) },
    callers: { ...d.callers, warmupMs: t(d.callers.warmupMs) },
    cooldownMs,
    defaultCooldownMs: t(d.defaultCooldownMs),
  };
}
