/**
 * The lifecycle entries the authority appends (server/authority/lifecycle-entries.ts): their
 * `details` members are the v1 format (verifier/FORMATS.md, "Entry"), and a retry finds its own
 * entry by the match helpers.
 */
import { describe, expect, it } from "vitest";
import {
  agentRegisteredEntry,
  certificateRevokedEntry,
  certificateRevokedMatch,
  keyRotatedEntry,
  keyRotatedMatch,
} from "../../../server/authority/lifecycle-entries.js";

const AGENT = "agt_5b1e0c0d7f3a4e2b9c8d7e6f5a4b3c2d";
const ARN = "arn:aws:kms:eu-central-1:000000000000:key/1";
const ARN2 = "arn:aws:kms:eu-central-1:000000000000:key/2";

/** Does `details` contain every member of `match` with the same value (what AuditLog.findLifecycle checks)? */
const matches = (details: Record<string, unknown>, match: Record<string, string>) =>
  Object.entries(match).every(([k, v]) => details[k] === v);

describe("agent.registered", () => {
  it("names the first certificate, the key, the agent's name and the validity (ISO)", () => {
    const e = agentRegisteredEntry(AGENT, {
      name: "invoice-bot",
      serial: "5f0c2a9e",
      keyArn: ARN,
      notBefore: new Date("2026-01-01T00:00:00.000Z"),
      notAfter: new Date("2027-01-01T00:00:00.000Z"),
    });
    expect(e).toEqual({
      type: "agent.registered",
      agent: AGENT,
      details: {
        name: "invoice-bot",
        cert: "5f0c2a9e",
        key: ARN,
        notBefore: "2026-01-01T00:00:00.000Z",
        notAfter: "2027-01-01T00:00:00.000Z",
      },
    });
  });
});

describe("key.rotated", () => {
  const e = keyRotatedEntry(AGENT, {
    rotationId: "rot_1",
    oldSerial: "0a",
    oldKeyArn: ARN,
    newSerial: "0b",
    newKeyArn: ARN2,
  });

  it("names the rotation, the old and the new certificate and key", () => {
    expect(e).toEqual({
      type: "key.rotated",
      agent: AGENT,
      details: { rotation: "rot_1", oldCert: "0a", oldKey: ARN, newCert: "0b", newKey: ARN2 },
    });
  });

  it("is found again by its rotation id, and only by its own", () => {
    expect(matches(e.details, keyRotatedMatch("rot_1"))).toBe(true);
    expect(matches(e.details, keyRotatedMatch("rot_2"))).toBe(false);
  });
});

describe("certificate.revoked", () => {
  const e = certificateRevokedEntry(AGENT, {
    serial: "0b",
    keyArn: ARN2,
    reason: "keyCompromise",
    revokedAt: "2026-06-01T00:00:00.000Z",
    crlNumber: 3,
  });

  it("names the certificate, its key, the reason, the time and the CRL that first lists it", () => {
    expect(e).toEqual({
      type: "certificate.revoked",
      agent: AGENT,
      details: { cert: "0b", key: ARN2, reason: "keyCompromise", revokedAt: "2026-06-01T00:00:00.000Z", crlNumber: 3 },
    });
  });

  it("is found again by its certificate's serial, and only by its own", () => {
    expect(matches(e.details, certificateRevokedMatch("0b"))).toBe(true);
    expect(matches(e.details, certificateRevokedMatch("0a"))).toBe(false);
  });
});
