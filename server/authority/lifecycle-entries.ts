/**
 * The lifecycle entries the authority appends to the audit log, and the detail a retry looks for
 * to tell whether its entry is already there. Their `details` are part of the v1 format (the
 * verifier checks them against the certificates): keys and values must not change.
 */
import type { LifecycleType } from "../log/types.js";

/** What `AuditLog.appendLifecycle` takes. */
export interface LifecycleEntryInput {
  type: LifecycleType;
  agent: string;
  details: Record<string, unknown>;
}

/** `agent.registered`: the agent's name, first certificate and key. */
export function agentRegisteredEntry(
  agentId: string,
  r: { name: string; serial: string; keyArn: string; notBefore: Date; notAfter: Date },
): LifecycleEntryInput {
  return {
    type: "agent.registered",
    agent: agentId,
    details: {
      name: r.name,
      cert: r.serial,
      key: r.keyArn,
      notBefore: r.notBefore.toISOString(),
      notAfter: r.notAfter.toISOString(),
    },
  };
}

/** `key.rotated`: the rotation, the superseded certificate and key, their successors. */
export function keyRotatedEntry(
  agentId: string,
  r: { rotationId: string; oldSerial: string; oldKeyArn: string; newSerial: string | null; newKeyArn: string | null },
): LifecycleEntryInput {
  return {
    type: "key.rotated",
    agent: agentId,
    details: {
      rotation: r.rotationId,
      oldCert: r.oldSerial,
      oldKey: r.oldKeyArn,
      newCert: r.newSerial,
      newKey: r.newKeyArn,
    },
  };
}

/** `certificate.revoked`: the certificate, its key, the RFC 5280 reason, when, and the first CRL that lists it. */
export function certificateRevokedEntry(
  agentId: string,
  r: { serial: string; keyArn: string; reason: string; revokedAt: string; crlNumber: number | null },
): LifecycleEntryInput {
  return {
    type: "certificate.revoked",
    agent: agentId,
    details: { cert: r.serial, key: r.keyArn, reason: r.reason, revokedAt: r.revokedAt, crlNumber: r.crlNumber },
  };
}

/** The `details` members that identify one rotation's `key.rotated` entry. */
export function keyRotatedMatch(rotationId: string): Record<string, string> {
  return { rotation: rotationId };
}

/** The `details` members that identify one certificate's `certificate.revoked` entry. */
export function certificateRevokedMatch(serial: string): Record<string, string> {
  return { cert: serial };
}
