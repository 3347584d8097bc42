import { makeAlert, type Alert } from "./alert.js";
import type { KmsEvent } from "./cloudtrail-event.js";
import type { KeyOwner } from "./key-owners.js";
import type { RecordedSignature, SignatureRef } from "./recorded-signatures.js";

/**
 * The pure core of reconciliation: every KMS Sign that CloudTrail saw on one of Kakunin's keys
 * must be one Kakunin recorded (same key ARN, same KMS request id). One that is not is an
 * unlogged signature — the key signed something Kakunin never logged.
 */
export interface ReconcileInput {
  /** KMS events read from CloudTrail (any event name; only Sign is judged). */
  events: readonly KmsEvent[];
  /** Owners of the keys in `events` that are Kakunin's. */
  owners: ReadonlyMap<string, KeyOwner>;
  /** Kakunin's recorded signatures among them, by request id. */
  recorded: ReadonlyMap<string, RecordedSignature>;
  nowMs: number;
  /**
   * A Sign younger than this is not judged yet: Kakunin records a signature when the entry it
   * belongs to commits, which may be after CloudTrail (and, locally, the KMS's file) saw the call.
   */
  graceMs: number;
}

export interface ReconcileResult {
  matched: { event: KmsEvent; recorded: RecordedSignature }[];
  unlogged: { event: KmsEvent; owner: KeyOwner }[];
  /** Too recent to judge: judge again on the next run. */
  pending: KmsEvent[];
  /** Sign calls KMS refused on a Kakunin key (no signature exists; someone tried). */
  refused: { event: KmsEvent; owner: KeyOwner }[];
  /** Sign events whose key CloudTrail did not resolve to an ARN (an alias and no resources[]). */
  unresolved: KmsEvent[];
  /** Sign events on keys that are not Kakunin's. */
  foreign: number;
}

/** The (key ARN, request id) pairs of successful Sign calls on Kakunin's keys: what to look up. */
export function signaturesToLookUp(events: readonly KmsEvent[], owners: ReadonlyMap<string, KeyOwner>): SignatureRef[] {
  return events.flatMap((e) =>
    e.eventName === "Sign" &&
    e.errorCode === undefined &&
    e.keyArn !== undefined &&
    e.requestId !== "" &&
    owners.has(e.keyArn)
      ? [{ keyArn: e.keyArn, requestId: e.requestId, timeMs: e.eventTime }]
      : [],
  );
}

export function reconcile(input: ReconcileInput): ReconcileResult {
  const result: ReconcileResult = { matched: [], unlogged: [], pending: [], refused: [], unresolved: [], foreign: 0 };
  for (const event of input.events) {
    if (event.eventName !== "Sign") continue;
    if (event.keyArn === undefined) {
      result.unresolved.push(event);
      continue;
    }
    const owner = input.owners.get(event.keyArn);
    if (!owner) {
      result.foreign++;
      continue;
    }
    if (event.errorCode !== undefined) {
      result.refused.push({ event, owner });
      continue;
    }
    const recorded = input.recorded.get(event.requestId);
    if (recorded && recorded.keyArn === event.keyArn) result.matched.push({ event, recorded });
    else if (event.eventTime > input.nowMs - input.graceMs) result.pending.push(event);
    else result.unlogged.push({ event, owner });
  }
  return result;
}

/** KMS error codes that mean the key was not usable: the attempt is a key-state alert. */
const KEY_STATE_ERRORS = new Set([
  "DisabledException",
  "KMSInvalidStateException",
  "NotFoundException",
  "KeyUnavailableException",
]);
const ACCESS_DENIED = /^AccessDenied/;

/** The alerts a reconciliation raises: one per unlogged signature, one per refused attempt worth one. */
export function reconciliationAlerts(result: ReconcileResult, nowMs: number): Alert[] {
  const alerts: Alert[] = [];
  for (const { event, owner } of result.unlogged) {
    alerts.push(
      makeAlert({
        findingKey: `unlogged-signature:${event.keyArn}:${event.requestId}`,
        timeMs: nowMs,
        issuerId: owner.issuerId,
        agentId: owner.agentId,
        keyArn: event.keyArn,
        kind: "unlogged-signature",
        severity: "critical",
        summary: `KMS signed with ${owner.role === "agent" ? `agent ${owner.agentId}'s` : `the ${owner.role}`} key at ${new Date(event.eventTime).toISOString()} (request ${event.requestId}) and Kakunin logged no such signature`,
        evidence: { ...eventEvidence(event), keyRole: owner.role },
      }),
    );
  }
  for (const { event, owner } of result.refused) {
    const code = event.errorCode!;
    const keyState = KEY_STATE_ERRORS.has(code);
    if (!keyState && !ACCESS_DENIED.test(code)) continue;
    alerts.push(
      makeAlert({
        findingKey: `${keyState ? "key-state" : "kms-access-denied"}:${event.keyArn}:${event.requestId || event.eventId}`,
        timeMs: nowMs,
        issuerId: owner.issuerId,
        agentId: owner.agentId,
        keyArn: event.keyArn,
        kind: keyState ? "key-state" : "kms-access-denied",
        severity: "high",
        summary: `a KMS Sign on ${owner.role === "agent" ? `agent ${owner.agentId}'s` : `the ${owner.role}`} key was refused with ${code} (request ${event.requestId})`,
        evidence: { ...eventEvidence(event), keyRole: owner.role, errorMessage: event.errorMessage ?? null },
      }),
    );
  }
  return alerts;
}

/** What CloudTrail says about the call: who, from where, when, which request. */
function eventEvidence(event: KmsEvent) {
  return {
    source: "cloudtrail",
    requestId: event.requestId,
    eventId: event.eventId,
    eventTime: new Date(event.eventTime).toISOString(),
    eventName: event.eventName,
    errorCode: event.errorCode ?? null,
    keyRef: event.keyRef ?? null,
    callerArn: event.caller.arn ?? null,
    callerType: event.caller.type ?? null,
    accessKeyId: event.caller.accessKeyId ?? null,
    invokedBy: event.caller.invokedBy ?? null,
    sourceIpAddress: event.sourceIpAddress ?? null,
    userAgent: event.userAgent ?? null,
    region: event.region,
    account: event.account,
  };
}
