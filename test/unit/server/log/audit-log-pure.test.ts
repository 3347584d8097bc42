/** Pure parts of the log's facade and certificate reads: lifecycle detail contract, the PEM cache. */
import { describe, expect, it } from "vitest";
import { contractDetails } from "../../../../server/log/audit-log.js";
import { PemCache } from "../../../../server/log/certificates.js";

describe("contractDetails", () => {
  it("passes lifecycle details carrying the FORMATS.md fields through unchanged (extra fields kept)", () => {
    const d = { cert: "0a", note: "x" };
    expect(contractDetails("agent.registered", d)).toBe(d);
    expect(contractDetails("key.rotated", { oldCert: "0a", newCert: "0b" })).toEqual({ oldCert: "0a", newCert: "0b" });
    expect(contractDetails("certificate.revoked", { cert: "0a", reason: "keyCompromise" })).toEqual({
      cert: "0a",
      reason: "keyCompromise",
    });
  });

  it("refuses details missing a contract field, or carrying it as a non-string", () => {
    expect(() => contractDetails("agent.registered", {})).toThrow(/agent.registered details need "cert"/);
    expect(() => contractDetails("key.rotated", { oldCert: "0a" })).toThrow(/"newCert"/);
    expect(() => contractDetails("certificate.revoked", { cert: "0a", reason: 1 })).toThrow(/"reason"/);
  });
});

describe("PemCache", () => {
  it("evicts the oldest entry beyond its bound", () => {
    const c = new PemCache(2);
    c.set("a", "A");
    c.set("b", "B");
    c.set("c", "C");
    expect([c.get("a"), c.get("b"), c.get("c")]).toEqual([undefined, "B", "C"]);
  });
});
