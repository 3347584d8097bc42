import { setTimeout as sleep } from "node:timers/promises";
import { internal, throttling } from "./errors.js";

/**
 * Fault injection for tests and benchmarks: added latency (fixed + uniform jitter), a share of
 * ThrottlingException (HTTP 400, retried by the SDK) and a share of KMSInternalException (HTTP 500).
 */
export interface FaultConfig {
  latencyMs: number;
  jitterMs: number;
  throttleRate: number;
  faultRate: number;
}

export async function injectFaults(config: FaultConfig, random: () => number = Math.random): Promise<void> {
  const delay = config.latencyMs + (config.jitterMs > 0 ? random() * config.jitterMs : 0);
  if (delay > 0) await sleep(delay);
  if (config.throttleRate > 0 && random() < config.throttleRate) throw throttling();
  if (config.faultRate > 0 && random() < config.faultRate) throw internal("Injected fault");
}
