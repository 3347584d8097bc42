/** Stale CRLs, certificate validity/AKI against the CA, and lifecycle details vs certificates. */
import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyReceipt, verifySignature, type Report } from "../../../verifier/src/index.js";
import { ChainBuilder, pssSign } from "./fixtures/chain.js";
import { issueAgent, makeCa, makeCrl, type Signer } from "./fixtures/pki.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";

const DAY = 86_400_000;
let s: Scenario;
let stale: string;
beforeAll(async () => {
  s = await scenario();
  stale = await makeCrl(s.ca, [{ serial: s.b1.serial, date: new Date(s.chain.timeOf(7)) }], 4, {
    thisUpdate: new Date(Date.now() - 3 * DAY),
    nextUpdate: new Date(Date.now() - DAY),
  });
}, 120_000);

const trust = () => ({ caFingerprint: s.ca.fingerprint });
const codes = (r: Report) => r.errors.map((e) => e.code);
const codesAt = (r: Report, seq: number) => r.errors.filter((e) => e.seq === seq).map((e) => e.code);
const step = (r: Report, name: string) => r.steps.find((x) => x.name === name);
const msg = new TextEncoder().encode("signed bytes");

describe("a CRL past its nextUpdate", () => {
  it("export: the CRL step is indeterminate with a clear detail; entries keep their verdicts", async () => {
    const r = await verifyExport(await s.chain.exportLines(s.certs, stale), { trust: trust() });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(step(r, "CRL")).toMatchObject({ status: "indeterminate" });
    expect(step(r, "CRL")!.detail).toMatch(/past its nextUpdate/);
    expect(r.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CRL", message: expect.stringMatching(/nextUpdate/) }),
    );
    expect(r.counts).toMatchObject({ entries: 10, passed: 10, failed: 0, indeterminate: 0 });
    // The same export with the current CRL passes.
    expect((await verifyExport(s.lines, { trust: trust() })).verdict).toBe("PASSED");
  });
  it("receipt: INDETERMINATE REVOCATION_UNKNOWN for a signer it does not list; a listed revocation still counts", async () => {
    const r = await verifyReceipt(await s.chain.receipt(5, { crl: stale }, s.signerOf), { trust: trust() });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.findings[0]).toMatchObject({ verdict: "INDETERMINATE", reason: "REVOCATION_UNKNOWN", code: "ERR_CRL" });
    expect(step(r, "CRL")?.status).toBe("indeterminate");
    // A fresher CRL supplied by the caller wins (higher cRLNumber is not needed: the stale one is 4, s.crl is 3, so pass a newer one).
    const fresh = await makeCrl(s.ca, [{ serial: s.b1.serial, date: new Date(s.chain.timeOf(7)) }], 5);
    expect(
      (await verifyReceipt(await s.chain.receipt(5, { crl: stale }, s.signerOf), { trust: trust(), crls: [fresh] }))
        .verdict,
    ).toBe("PASSED");
    const revoked = await verifyReceipt(await s.chain.receipt(3, { crl: stale }, s.signerOf), { trust: trust() });
    expect(revoked.findings[0]).toMatchObject({ verdict: "INDETERMINATE", code: "ERR_NO_POE" });
    expect(step(revoked, "CRL")?.status).toBe("passed");
  });
  it("signature: INDETERMINATE with ERR_CRL", async () => {
    const sig = await pssSign(s.a2, msg);
    const r = await verifySignature({
      message: msg,
      signature: sig,
      certificate: s.a2.pem,
      trust: { caCertificate: s.ca.pem },
      crls: [stale],
    });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(codes(r)).toEqual(["ERR_CRL"]);
    expect(
      (
        await verifySignature({
          message: msg,
          signature: sig,
          certificate: s.a2.pem,
          trust: { caCertificate: s.ca.pem },
          crls: [s.crl],
        })
      ).verdict,
    ).toBe("PASSED");
  });
});

describe("certificates against the CA", () => {
  const check = async (agent: Signer) =>
    verifySignature({
      message: msg,
      signature: await pssSign(agent, msg),
      certificate: agent.pem,
      trust: { caCertificate: s.ca.pem },
      crls: [s.crl],
    });
  it("validity must lie within the CA's", async () => {
    const late = await issueAgent(s.ca, "agt_late", { notAfter: new Date(s.ca.cert.notAfter.getTime() + DAY) });
    const r = await check(late);
    expect(r.verdict).toBe("FAILED");
    expect(r.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CERT_PATH", message: expect.stringMatching(/validity/) }),
    );
    const early = await issueAgent(s.ca, "agt_early", { notBefore: new Date(s.ca.cert.notBefore.getTime() - DAY) });
    expect(codes(await check(early))).toContain("ERR_CERT_PATH");
  });
  it("authorityKeyIdentifier must be the CA's subjectKeyIdentifier", async () => {
    const other = await makeCa("Other CA");
    const wrong = await issueAgent(s.ca, "agt_wrong_aki", { akiKey: other.keys.publicKey });
    const r = await check(wrong);
    expect(r.verdict).toBe("FAILED");
    expect(r.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CERT_PATH", message: expect.stringMatching(/authorityKeyIdentifier/) }),
    );
    const none = await issueAgent(s.ca, "agt_no_aki", { akiKey: null });
    expect(codes(await check(none))).toContain("ERR_CERT_PATH");
  });
});

describe("lifecycle details vs certificates", () => {
  let a3: Signer;
  beforeAll(async () => {
    a3 = await issueAgent(s.ca, "agt_alice");
  }, 60_000);
  const verify = async (chain: ChainBuilder, certs: Signer[]) =>
    verifyExport(await chain.exportLines(certs, s.crl), { trust: trust() });

  it("agent.registered cert must be a certificate of that agent", async () => {
    const c = new ChainBuilder(s.ca, s.log);
    await c.lifecycle("agent.registered", "agt_alice", { cert: s.b1.serial });
    await c.operation(s.a1);
    const r = await verify(c, [s.log, s.a1, s.b1]);
    expect(r.verdict).toBe("FAILED");
    expect(codesAt(r, 0)).toEqual(["ERR_LIFECYCLE"]);
    expect(r.findings).toContainEqual(expect.objectContaining({ seq: 0, reason: "LIFECYCLE_MISMATCH" }));
  });
  it("key.rotated oldCert and newCert must be that agent's, and differ", async () => {
    const c = new ChainBuilder(s.ca, s.log);
    await c.registered(s.a1);
    await c.lifecycle("key.rotated", "agt_alice", { oldCert: s.b1.serial, newCert: s.a2.serial });
    await c.lifecycle("key.rotated", "agt_alice", { oldCert: s.a1.serial, newCert: s.b1.serial });
    await c.lifecycle("key.rotated", "agt_alice", { oldCert: s.a2.serial, newCert: s.a2.serial });
    const r = await verify(c, [s.log, s.a1, s.a2, s.b1]);
    expect(codesAt(r, 0)).toEqual([]);
    expect(codesAt(r, 1)).toEqual(["ERR_LIFECYCLE"]);
    expect(r.errors.find((e) => e.seq === 1)?.field).toBe("entry.details.oldCert");
    expect(codesAt(r, 2)).toEqual(["ERR_LIFECYCLE"]);
    expect(r.errors.find((e) => e.seq === 2)?.field).toBe("entry.details.newCert");
    expect(codesAt(r, 3)).toEqual(["ERR_LIFECYCLE"]);
  });
  it("after a rotation the agent's entries are signed by newCert (the standard scenario passes)", async () => {
    const c = new ChainBuilder(s.ca, s.log);
    await c.registered(s.a1);
    await c.operation(s.a1);
    await c.rotated(s.a1, s.a2);
    await c.operation(s.a2);
    await c.operation(a3); // alice's third certificate, never rotated in
    await c.operation(s.a1); // the rotated-out one: SUPERSEDED, as before
    const r = await verify(c, [s.log, s.a1, s.a2, s.b1, a3]);
    expect(codesAt(r, 1)).toEqual([]);
    expect(codesAt(r, 3)).toEqual([]);
    expect(codesAt(r, 4)).toEqual(["ERR_LIFECYCLE"]);
    // The range ends before any announcement that could name a3: undecided (issue 13 class 4), not FAILED.
    expect(r.findings).toContainEqual(
      expect.objectContaining({ seq: 4, verdict: "INDETERMINATE", reason: "LIFECYCLE_MISMATCH" }),
    );
    expect(codesAt(r, 5)).toEqual(["ERR_SUPERSEDED"]);
  });
  it("an operation signed by the new certificate just before its key.rotated entry passes (the server activates it first)", async () => {
    const c = new ChainBuilder(s.ca, s.log);
    await c.registered(s.a1);
    await c.operation(s.a1);
    await c.operation(s.a2); // new certificate active, rotation entry not yet appended
    await c.rotated(s.a1, s.a2);
    await c.operation(s.a2);
    const r = await verify(c, [s.log, s.a1, s.a2, s.b1]);
    expect(r.errors).toEqual([]);
    expect(r.verdict).toBe("PASSED");
  });
  it("before any rotation the agent signs with its registered certificate", async () => {
    const c = new ChainBuilder(s.ca, s.log);
    await c.registered(s.a1);
    await c.operation(s.a2);
    const r = await verify(c, [s.log, s.a1, s.a2]);
    expect(codesAt(r, 1)).toEqual(["ERR_LIFECYCLE"]);
  });
});
