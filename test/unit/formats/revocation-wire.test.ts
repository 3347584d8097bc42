/** formats/revocation.ts against @peculiar/x509's CRLReason enumeration, and the small helpers of wire.ts / canonical.ts. */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import {
  canonicalText,
  crlReasonName,
  ENTRY_TYPES,
  entryCanonicalText,
  isLifecycleType,
  isRevocationReason,
  LIFECYCLE_TYPES,
  REVOCATION_REASONS,
  VerificationError,
  type UnsignedEntry,
} from "../../../verifier/src/formats/index.js";

describe("CRLReason names", () => {
  it("crlReasonName gives RFC 5280's name for every defined value, nothing for 7 or beyond 10", () => {
    for (let code = 0; code <= 10; code++) {
      const name = x509.X509CrlReason[code];
      if (code === 7) expect(crlReasonName(code)).toBeUndefined();
      else expect(crlReasonName(code), String(code)).toBe(name);
    }
    for (const code of [-1, 11, 255, 1.5]) expect(crlReasonName(code)).toBeUndefined();
  });

  it("REVOCATION_REASONS are the CRLReason names one may revoke for (all but removeFromCRL), and isRevocationReason says so", () => {
    const names = Array.from({ length: 11 }, (_, i) => crlReasonName(i)).filter(
      (n): n is string => n !== undefined && n !== "removeFromCRL",
    );
    expect([...REVOCATION_REASONS]).toEqual(names);
    for (const r of REVOCATION_REASONS) expect(isRevocationReason(r)).toBe(true);
    for (const r of ["removeFromCRL", "KeyCompromise", "", 1, null, undefined])
      expect(isRevocationReason(r)).toBe(false);
  });
});

describe("wire helpers", () => {
  it("isLifecycleType: the three log-signer types, not operations or unknown types", () => {
    expect(ENTRY_TYPES.filter(isLifecycleType)).toEqual([...LIFECYCLE_TYPES]);
    for (const t of ["agent.operation", "agent.registered.x", "", "future.type"])
      expect(isLifecycleType(t)).toBe(false);
  });

  it("canonicalText is RFC 8785 (the reference `canonicalize`), also where the fast path steps aside", () => {
    const values: unknown[] = [
      { b: 1, a: [true, null, "x"], c: { z: 0.1, y: -0 } },
      { details: undefined, seq: 1 }, // an undefined member is left out, as JSON.stringify does
      { é: "\u2028", "\u00e9x": "😀" },
      [1e21, 1e-7, 123456789012345680000],
    ];
    for (const v of values) expect(canonicalText(v)).toBe(canonicalize(v));
    expect(() => canonicalText(undefined)).toThrow(VerificationError);
  });

  it("entryCanonicalText of an unsigned entry (what the server hashes) equals that of the signed entry (what a verifier rehashes)", () => {
    const unsigned: UnsignedEntry = {
      v: 1,
      seq: 7,
      time: "2026-12-02T17:13:02.215Z",
      type: "key.rotated",
      issuer: "iss_1",
      agent: "agt_1",
      signer: { cert: "0a", key: "arn:k", alg: "RSASSA_PSS_SHA_256" },
      payloadHash: "ab".repeat(32),
      prevHash: "cd".repeat(32),
      details: { oldCert: "0a", newCert: "0b" },
    };
    const text = entryCanonicalText(unsigned);
    expect(text).toBe(canonicalize(unsigned));
    const signed = { ...(JSON.parse(text) as UnsignedEntry), hash: "ef".repeat(32), sig: "c2ln" };
    expect(entryCanonicalText(signed)).toBe(text);
    expect(entryCanonicalText({ sig: "c2ln", hash: "ef".repeat(32), ...unsigned })).toBe(text);
  });
});
