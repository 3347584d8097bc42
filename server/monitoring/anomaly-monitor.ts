import { makeAlert, type Alert, type AlertInput, type AlertKind } from "./alert.js";
import { KnownCallers, type KnownCallersOptions } from "./known-callers.js";
import type { AuthFailureObservation, Observation, SignObservation, SignRefusedObservation } from "./observation.js";
import { RateBaseline, type RateBaselineOptions } from "./rate-baseline.js";
import { UsualHours, type UsualHoursOptions } from "./usual-hours.js";

/**
 * Per-agent anomaly detection over the server's own observations (observation.ts). Each agent's
 * profile is learned from its own history only: its signing rate (rate-baseline.ts), its callers
 * (known-callers.ts), its hours (usual-hours.ts), plus its refused Sign attempts and its
 * authentication failures. Pure and deterministic: no clock but the observations' times, no I/O.
 *
 * An alert of one kind for one agent is raised at most once per cooldown; the occurrences it
 * swallowed are counted in the next alert's evidence.
 */
export interface AnomalyMonitorOptions {
  burst: RateBaselineOptions;
  authFailures: RateBaselineOptions;
  callers: KnownCallersOptions;
  hours: UsualHoursOptions;
  /** Per kind; kinds not named use `defaultCooldownMs`. */
  cooldownMs: Partial<Record<AlertKind, number>>;
  defaultCooldownMs: number;
  /** Most agents profiled at once (least recently active forgotten first). */
  maxAgents: number;
}

const MINUTE = 60_000;

export const DEFAULT_MONITOR_OPTIONS: AnomalyMonitorOptions = {
  burst: { bucketMs: MINUTE, alpha: 0.05, warmupBuckets: 30, minCount: 12, ratio: 4, z: 6 },
  // No warm-up: the floor (5 failures in 5 minutes) applies from the first request; the learned
  // part only raises it for an agent whose clients routinely fail a few times.
  authFailures: { bucketMs: 5 * MINUTE, alpha: 0.1, warmupBuckets: 0, minCount: 5, ratio: 4, z: 6 },
  callers: { warmupSigns: 50, warmupMs: 60 * MINUTE, capacity: 256, ipv4PrefixBits: 32, ipv6PrefixBits: 128 },
  hours: { warmupDays: 7, warmupSigns: 200, minShare: 0.01, dailyDecay: 0.97 },
  cooldownMs: { "unusual-hours": 180 * MINUTE, "new-token": 0, "new-source-address": 0 },
  defaultCooldownMs: 15 * MINUTE,
  maxAgents: 100_000,
};

/** Request ids kept per burst bucket for the evidence. */
const EVIDENCE_REQUEST_IDS = 20;

interface AgentProfile {
  burst: RateBaseline;
  burstRequestIds: string[];
  failures: RateBaseline;
  failureAddresses: Set<string>;
  callers: KnownCallers;
  hours: UsualHours;
  lastAlertMs: Map<AlertKind, number>;
  suppressed: Map<AlertKind, number>;
}

export class AnomalyMonitor {
  private readonly agents = new Map<string, AgentProfile>();
  private readonly options: AnomalyMonitorOptions;

  constructor(options: Partial<AnomalyMonitorOptions> = {}) {
    this.options = { ...DEFAULT_MONITOR_OPTIONS, ...options };
  }

  /** Feeds one observation; returns the alerts it raises (often none). */
  observe(observation: Observation): Alert[] {
    switch (observation.type) {
      case "sign":
        return this.sign(observation);
      case "sign-refused":
        return this.refused(observation);
      case "auth-failure":
        return this.authFailure(observation);
      case "token-issued":
        this.profile(observation.agentId).callers.expectToken(observation.tokenId, observation.timeMs);
        return [];
    }
  }

  /** Agents with a profile now. */
  get agentCount(): number {
    return this.agents.size;
  }

  private sign(o: SignObservation): Alert[] {
    const p = this.profile(o.agentId);
    const alerts: Alert[] = [];
    const base = { issuerId: o.issuerId, agentId: o.agentId, keyArn: o.keyArn, timeMs: o.timeMs };

    const bucketBefore = p.burst.currentBucketStart;
    const count = p.burst.add(o.timeMs);
    if (p.burst.currentBucketStart !== bucketBefore) p.burstRequestIds = [];
    if (o.requestId && p.burstRequestIds.length < EVIDENCE_REQUEST_IDS) p.burstRequestIds.push(o.requestId);
    if (p.burst.bursting) {
      const b = p.burst.snapshot();
      this.raise(p, alerts, {
        ...base,
        findingKey: `signing-burst:${o.agentId}:${p.burst.currentBucketStart}`,
        kind: "signing-burst",
        severity: "high",
        summary: `agent ${o.agentId} signed ${count} times in ${this.options.burst.bucketMs / 1000} s; its usual rate is ${round(b.mean)} per bucket`,
        evidence: {
          count,
          bucketStart: new Date(p.burst.currentBucketStart).toISOString(),
          bucketMs: this.options.burst.bucketMs,
          baselineMean: round(b.mean),
          baselineStdDev: round(b.stdDev),
          threshold: round(b.threshold),
          learnedFromBuckets: b.activeBuckets,
          tokenId: o.tokenId,
          sourceAddress: o.sourceAddress,
          requestIds: [...p.burstRequestIds],
        },
      });
    }

    const news = p.callers.observe(o.tokenId, o.sourceAddress, o.timeMs);
    const callerEvidence = {
      tokenId: o.tokenId,
      sourceAddress: o.sourceAddress,
      knownTokens: news.knownTokens,
      knownAddresses: news.knownAddresses,
      requestId: o.requestId ?? null,
    };
    if (news.newToken) {
      this.raise(p, alerts, {
        ...base,
        findingKey: `new-token:${o.agentId}:${o.tokenId}`,
        kind: "new-token",
        severity: "warning",
        summary: `agent ${o.agentId} signed with token ${o.tokenId}, never seen signing for it before`,
        evidence: callerEvidence,
      });
    }
    if (news.newAddress) {
      this.raise(p, alerts, {
        ...base,
        findingKey: `new-source-address:${o.agentId}:${news.addressKey}`,
        kind: "new-source-address",
        severity: "warning",
        summary: `agent ${o.agentId} signed from ${o.sourceAddress}, an address never seen signing for it before`,
        evidence: { ...callerEvidence, addressCompared: news.addressKey },
      });
    }

    const hour = p.hours.observe(o.timeMs);
    if (hour.unusual) {
      this.raise(p, alerts, {
        ...base,
        findingKey: `unusual-hours:${o.agentId}:${Math.floor(o.timeMs / 3_600_000)}`,
        kind: "unusual-hours",
        severity: "warning",
        summary: `agent ${o.agentId} signed at ${String(hour.hour).padStart(2, "0")}:00 UTC, far outside its usual hours`,
        evidence: {
          hourUtc: hour.hour,
          shareOfActivity: round(hour.share, 5),
          usualHoursUtc: hour.usualHours,
          tokenId: o.tokenId,
          sourceAddress: o.sourceAddress,
          requestId: o.requestId ?? null,
        },
      });
    }
    return alerts;
  }

  private refused(o: SignRefusedObservation): Alert[] {
    const p = this.profile(o.agentId);
    const alerts: Alert[] = [];
    this.raise(p, alerts, {
      findingKey: `key-state:${o.agentId}:${o.code}:${o.timeMs}`,
      timeMs: o.timeMs,
      issuerId: o.issuerId,
      agentId: o.agentId,
      keyArn: o.keyArn,
      kind: "key-state",
      severity: "high",
      summary: `a Sign was attempted for agent ${o.agentId} whose key or certificate is disabled or revoked (${o.code})`,
      evidence: { code: o.code, tokenId: o.tokenId ?? null, sourceAddress: o.sourceAddress ?? null },
    });
    return alerts;
  }

  private authFailure(o: AuthFailureObservation): Alert[] {
    const p = this.profile(o.agentId);
    const alerts: Alert[] = [];
    const bucketBefore = p.failures.currentBucketStart;
    const count = p.failures.add(o.timeMs);
    if (p.failures.currentBucketStart !== bucketBefore) p.failureAddresses.clear();
    if (o.sourceAddress && p.failureAddresses.size < 10) p.failureAddresses.add(o.sourceAddress);
    if (p.failures.bursting) {
      const b = p.failures.snapshot();
      this.raise(p, alerts, {
        findingKey: `auth-failures:${o.agentId}:${p.failures.currentBucketStart}`,
        timeMs: o.timeMs,
        issuerId: o.issuerId,
        agentId: o.agentId,
        keyArn: undefined,
        kind: "auth-failures",
        severity: "high",
        summary: `${count} failed authentications against agent ${o.agentId} within ${this.options.authFailures.bucketMs / 1000} s`,
        evidence: {
          count,
          bucketStart: new Date(p.failures.currentBucketStart).toISOString(),
          bucketMs: this.options.authFailures.bucketMs,
          baselineMean: round(b.mean),
          threshold: round(b.threshold),
          lastCode: o.code,
          sourceAddresses: [...p.failureAddresses],
        },
      });
    }
    return alerts;
  }

  /** Appends the alert unless its kind is cooling down for this agent. */
  private raise(p: AgentProfile, out: Alert[], input: AlertInput): void {
    const cooldown = this.options.cooldownMs[input.kind] ?? this.options.defaultCooldownMs;
    const last = p.lastAlertMs.get(input.kind);
    if (last !== undefined && input.timeMs - last < cooldown) {
      p.suppressed.set(input.kind, (p.suppressed.get(input.kind) ?? 0) + 1);
      return;
    }
    const suppressed = p.suppressed.get(input.kind) ?? 0;
    p.lastAlertMs.set(input.kind, input.timeMs);
    p.suppressed.delete(input.kind);
    out.push(
      makeAlert(
        suppressed > 0 ? { ...input, evidence: { ...input.evidence, suppressedSincePrevious: suppressed } } : input,
      ),
    );
  }

  private profile(agentId: string): AgentProfile {
    let p = this.agents.get(agentId);
    if (p) {
      // Map order is recency order: re-insert on use.
      this.agents.delete(agentId);
    } else {
      p = {
        burst: new RateBaseline(this.options.burst),
        burstRequestIds: [],
        failures: new RateBaseline(this.options.authFailures),
        failureAddresses: new Set(),
        callers: new KnownCallers(this.options.callers),
        hours: new UsualHours(this.options.hours),
        lastAlertMs: new Map(),
        suppressed: new Map(),
      };
    }
    this.agents.set(agentId, p);
    if (this.agents.size > this.options.maxAgents) this.agents.delete(this.agents.keys().next().value!);
    return p;
  }
}

function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x > 0 ? Number.MAX_SAFE_INTEGER : 0;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
