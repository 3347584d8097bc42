import { createHash } from "node:crypto";

/**
 * A key-usage alert: what monitoring tells the security team. Everything a responder needs to
 * act is in `evidence` (counts, the baseline they were judged against, KMS request ids), and
 * nothing secret is: tokens appear by id, never by value.
 */
export interface Alert {
  /** `alr_` + 24 hex digits, derived from what the alert is about: the same finding always gets the same id. */
  id: string;
  /** When it was raised, ISO 8601 UTC. */
  time: string;
  issuerId: string | null;
  agentId: string | null;
  keyArn: string | null;
  kind: AlertKind;
  severity: AlertSeverity;
  /** One line for people. */
  summary: string;
  evidence: Evidence;
}

export type AlertKind =
  /** An agent signing far above its own learned rate. */
  | "signing-burst"
  /** A token never seen signing for this agent before. */
  | "new-token"
  /** A source address never seen signing for this agent before. */
  | "new-source-address"
  /** Signing at an hour of the day this agent is never active in. */
  | "unusual-hours"
  /** A Sign attempt on a disabled or revoked key or certificate (Kakunin's 409s, KMS's DisabledException). */
  | "key-state"
  /** Repeated authentication failures against one agent. */
  | "auth-failures"
  /** KMS refused a Sign on a Kakunin key for lack of permission: someone tried. */
  | "kms-access-denied"
  /** A KMS Sign on a Kakunin key that Kakunin did not make: the key was used outside Kakunin. */
  | "unlogged-signature"
  /** The database disagrees with the checkpoints already handed out (a restore, another database): the issuer's log is frozen. */
  | "log.fork-suspected";

export const ALERT_KINDS: readonly AlertKind[] = [
  "signing-burst",
  "new-token",
  "new-source-address",
  "unusual-hours",
  "key-state",
  "auth-failures",
  "kms-access-denied",
  "unlogged-signature",
  "log.fork-suspected",
];

export type AlertSeverity = "info" | "warning" | "high" | "critical";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Evidence = { [key: string]: JsonValue };

export interface AlertInput {
  /** Identity of the finding (e.g. `unlogged-signature:<request id>`): the id is its hash. */
  findingKey: string;
  timeMs: number;
  issuerId: string | undefined;
  agentId: string | undefined;
  keyArn: string | undefined;
  kind: AlertKind;
  severity: AlertSeverity;
  summary: string;
  evidence: Evidence;
}

/** Builds an alert; pure (the id is a hash of `findingKey`, the time is the caller's). */
export function makeAlert(input: AlertInput): Alert {
  return {
    id: alertId(input.findingKey),
    time: new Date(input.timeMs).toISOString(),
    issuerId: input.issuerId ?? null,
    agentId: input.agentId ?? null,
    keyArn: input.keyArn ?? null,
    kind: input.kind,
    severity: input.severity,
    summary: input.summary,
    evidence: input.evidence,
  };
}

export function alertId(findingKey: string): string {
  return `alr_${createHash("sha256").update(findingKey).digest("hex").slice(0, 24)}`;
}

const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, high: 2, critical: 3 };

/** a ≥ b in severity. */
export function atLeast(a: AlertSeverity, b: AlertSeverity): boolean {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b];
}
