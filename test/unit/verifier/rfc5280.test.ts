/**
 * Issue 13 classes 5 and 6 — RFC 5280 and docs/code agreement. An unknown critical extension makes
 * a certificate (or the pinned CA) unusable → FAILED; a CRL signed by a CA without keyUsage
 * cRLSign, or one with an unknown critical extension, is not used → INDETERMINATE as with no CRL;
 * an export or receipt without any CRL is INDETERMINATE, exit 3 (verifier/README.md).
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyReceipt, type Report } from "../../../verifier/src/index.js";
import { ChainBuilder } from "./fixtures/chain.js";
import { cliSandbox, EXIT } from "./fixtures/cli.js";
import { issueAgent, issueLogSigner, makeCa, makeCrl, type Ca, type Signer } from "./fixtures/pki.js";
import * as t from "./tamper.js";

const box = cliSandbox("kakunin-rfc5280-");
const UNKNOWN_OID = "1.3.6.1.4.1.55555.1.1";
const unknownExt = (critical: boolean) => new x509.Extension(UNKNOWN_OID, critical, new Uint8Array([0x05, 0x00]));

/** registered(agent), two operations, an export and a receipt of seq 1. */
async function smallChain(ca: Ca, agent: Signer, log: Signer, crl: string | null) {
  const chain = new ChainBuilder(ca, log);
  await chain.registered(agent);
  await chain.operation(agent);
  await chain.operation(agent);
  let lines = await chain.exportLines([log, agent], crl ?? "");
  if (crl === null) lines = t.deleteLine(lines, t.kindIndex(lines, "crl"));
  const receipt = await chain.receipt(1, crl ? { crl } : {}, () => agent);
  return { chain, lines, receipt };
}

function cliExport(ca: Ca, lines: string[], r: Report) {
  const c = box.cli(
    "log",
    box.file(lines.join("\n") + "\n"),
    "--ca-fingerprint",
    ca.fingerprint,
    "--json",
    "--workers",
    "1",
  );
  expect(c.json!.verdict).toBe(r.verdict);
  expect(c.status).toBe(EXIT[r.verdict]);
}
function cliReceipt(ca: Ca, rc: unknown, r: Report) {
  const c = box.cli("receipt", box.file(JSON.stringify(rc)), "--ca-fingerprint", ca.fingerprint, "--json");
  expect(c.json!.verdict).toBe(r.verdict);
  expect(c.status).toBe(EXIT[r.verdict]);
}

let ca: Ca;
let log: Signer;
beforeAll(async () => {
  ca = await makeCa();
  log = await issueLogSigner(ca);
}, 120_000);

describe("unknown critical extension", () => {
  it("on an agent certificate: FAILED ERR_CERT_PATH (export and receipt, library and CLI); non-critical is fine", async () => {
    const crl = await makeCrl(ca, [], 1);
    const bad = await smallChain(
      ca,
      await issueAgent(ca, "agt_crit", { extraExtensions: [unknownExt(true)] }),
      log,
      crl,
    );
    const re = await verifyExport(bad.lines, { trust: { caFingerprint: ca.fingerprint } });
    expect(re.verdict).toBe("FAILED");
    expect(re.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CERT_PATH", message: expect.stringContaining(UNKNOWN_OID) }),
    );
    expect(re.findings).toContainEqual(
      expect.objectContaining({ seq: 1, verdict: "FAILED", reason: "CERT_PATH_FAILURE" }),
    );
    cliExport(ca, bad.lines, re);
    const rr = await verifyReceipt(bad.receipt, { trust: { caFingerprint: ca.fingerprint } });
    expect(rr.verdict).toBe("FAILED");
    expect(rr.errors.map((e) => e.code)).toContain("ERR_CERT_PATH");
    cliReceipt(ca, bad.receipt, rr);

    const ok = await smallChain(
      ca,
      await issueAgent(ca, "agt_noncrit", { extraExtensions: [unknownExt(false)] }),
      log,
      crl,
    );
    expect((await verifyExport(ok.lines, { trust: { caFingerprint: ca.fingerprint } })).verdict).toBe("PASSED");
    expect((await verifyReceipt(ok.receipt, { trust: { caFingerprint: ca.fingerprint } })).verdict).toBe("PASSED");
  });
  it("on the pinned CA: FAILED (the anchor itself is unusable)", async () => {
    const badCa = await makeCa("Critical CA", { extraExtensions: [unknownExt(true)] });
    const l = await issueLogSigner(badCa);
    const { lines, receipt } = await smallChain(
      badCa,
      await issueAgent(badCa, "agt_x"),
      l,
      await makeCrl(badCa, [], 1),
    );
    const re = await verifyExport(lines, { trust: { caFingerprint: badCa.fingerprint } });
    expect(re.verdict).toBe("FAILED");
    expect(re.errors[0]).toMatchObject({ code: "ERR_CERT_PATH", message: expect.stringContaining(UNKNOWN_OID) });
    cliExport(badCa, lines, re);
    const rr = await verifyReceipt(receipt, { trust: { caCertificate: badCa.pem } });
    expect(rr.verdict).toBe("FAILED");
    cliReceipt(badCa, receipt, rr);
  });
  it("on a CRL: the CRL is not used → INDETERMINATE", async () => {
    const crl = await makeCrl(ca, [], 2, { extraExtensions: [unknownExt(true)] });
    const { lines, receipt } = await smallChain(ca, await issueAgent(ca, "agt_y"), log, crl);
    const re = await verifyExport(lines, { trust: { caFingerprint: ca.fingerprint } });
    expect(re.verdict).toBe("INDETERMINATE");
    expect(re.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CRL", message: expect.stringContaining("unknown critical extension") }),
    );
    cliExport(ca, lines, re);
    const rr = await verifyReceipt(receipt, { trust: { caFingerprint: ca.fingerprint } });
    expect(rr.verdict).toBe("INDETERMINATE");
    cliReceipt(ca, receipt, rr);
  });
});

describe("CRL signer without cRLSign", () => {
  it("a CRL signed by a CA whose certificate lacks cRLSign is not used: INDETERMINATE, exit 3", async () => {
    const noCrlSign = await makeCa("No cRLSign CA", { crlSign: false });
    const l = await issueLogSigner(noCrlSign);
    const agent = await issueAgent(noCrlSign, "agt_z");
    // Even a CRL listing the agent as revoked is not relied on, either way.
    const crl = await makeCrl(noCrlSign, [{ serial: agent.serial, date: new Date(Date.now() - 10_000) }], 1);
    const { lines, receipt } = await smallChain(noCrlSign, agent, l, crl);
    const re = await verifyExport(lines, { trust: { caFingerprint: noCrlSign.fingerprint } });
    expect(re.verdict).toBe("INDETERMINATE");
    expect(re.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CRL", message: expect.stringContaining("cRLSign") }),
    );
    expect(re.subject?.crl).toBeUndefined();
    cliExport(noCrlSign, lines, re);
    const rr = await verifyReceipt(receipt, { trust: { caCertificate: noCrlSign.pem } });
    expect(rr.verdict).toBe("INDETERMINATE");
    expect(rr.subject?.revocation?.status).toBe("unknown");
    cliReceipt(noCrlSign, receipt, rr);
  });
});

describe("docs and code agree: no CRL is INDETERMINATE (exit 3)", () => {
  it("an export without a CRL line, and a receipt without a crl", async () => {
    const { lines, receipt } = await smallChain(ca, await issueAgent(ca, "agt_nocrl"), log, null);
    expect(lines.some((l) => l.includes('"kind":"crl"'))).toBe(false);
    const re = await verifyExport(lines, { trust: { caFingerprint: ca.fingerprint } });
    expect(re.verdict).toBe("INDETERMINATE");
    expect(re.errors).toEqual([expect.objectContaining({ code: "ERR_CRL" })]);
    expect(re.steps.find((s) => s.name === "CRL")?.status).toBe("indeterminate");
    cliExport(ca, lines, re);
    const rr = await verifyReceipt(receipt, { trust: { caFingerprint: ca.fingerprint } });
    expect(rr.verdict).toBe("INDETERMINATE");
    cliReceipt(ca, receipt, rr);
  });
  it("a forged CRL (not the pinned CA's) stays FAILED: that is tampering, not missing data", async () => {
    const other = await makeCa("Attacker CA");
    const forged = await makeCrl(ca, [], 99, { signingKey: other.keys.privateKey });
    const { lines } = await smallChain(ca, await issueAgent(ca, "agt_forgedcrl"), log, forged);
    const re = await verifyExport(lines, { trust: { caFingerprint: ca.fingerprint } });
    expect(re.verdict).toBe("FAILED");
    expect(re.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CRL", message: expect.stringContaining("not signed by the pinned CA") }),
    );
    cliExport(ca, lines, re);
  });
});
