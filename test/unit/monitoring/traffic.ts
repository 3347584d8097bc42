/** Scripted signing traffic for the detector tests: seeded, so every run sees the same days. */
import type { SignObservation } from "../../../server/monitoring/observation.js";

/** mulberry32: a small seeded PRNG (0..1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson-distributed count with mean `lambda` (Knuth; lambda stays small here). */
export function poisson(lambda: number, random: () => number): number {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

export interface AgentHabits {
  agentId: string;
  issuerId: string;
  keyArn: string;
  /** Working hours, UTC, [start, end). */
  startHour: number;
  endHour: number;
  /** Mean signatures per minute at the busiest time of the day. */
  peakPerMinute: number;
  tokens: string[];
  addresses: string[];
}

export const MINUTE = 60_000;
export const DAY = 86_400_000;

/**
 * One agent's normal working day: Poisson arrivals per minute within its hours, rising to its peak
 * at midday and falling again, the whole day ±20 % busier or quieter than the last; each
 * signature from one of its usual tokens and addresses.
 */
export function normalDay(habits: AgentHabits, dayStartMs: number, random: () => number): SignObservation[] {
  const out: SignObservation[] = [];
  const dayFactor = 0.8 + 0.4 * random();
  const span = (habits.endHour - habits.startHour) * 60;
  for (let minute = 0; minute < span; minute++) {
    const shape = 0.5 + 0.5 * Math.sin((Math.PI * minute) / span);
    const n = poisson(habits.peakPerMinute * shape * dayFactor, random);
    const minuteStart = dayStartMs + habits.startHour * 3_600_000 + minute * MINUTE;
    const times = Array.from({ length: n }, () => minuteStart + Math.floor(random() * MINUTE)).sort((a, b) => a - b);
    for (const timeMs of times)
      out.push(sign(habits, timeMs, pick(habits.tokens, random), pick(habits.addresses, random), random));
  }
  return out;
}

export function sign(
  habits: AgentHabits,
  timeMs: number,
  tokenId: string,
  sourceAddress: string,
  random: () => number,
): SignObservation {
  return {
    type: "sign",
    timeMs,
    issuerId: habits.issuerId,
    agentId: habits.agentId,
    keyArn: habits.keyArn,
    tokenId,
    sourceAddress,
    requestId: `req-${Math.floor(random() * 2 ** 48).toString(16)}`,
  };
}

const pick = <T>(items: T[], random: () => number): T => items[Math.floor(random() * items.length)]!;

/** Merges per-agent streams into one in time order (the server sees them interleaved). */
export function interleave(streams: SignObservation[][]): SignObservation[] {
  return streams.flat().sort((a, b) => a.timeMs - b.timeMs);
}
