/**
 * Issue 13 class 4 — lifecycle cross-checks. `certificate.revoked` must name a certificate of its
 * agent; an operation signed by a rotated-in certificate before the `key.rotated` announcement is
 * judged against the CRL like every other entry once resolved; an export that ends between first
 * use and announcement is INDETERMINATE (legal order per FORMATS.md), not FAILED.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, type Report } from "../../../verifier/src/index.js";
import { ChainBuilder } from "./fixtures/chain.js";
import { cliSandbox, EXIT } from "./fixtures/cli.js";
import { issueAgent, issueLogSigner, makeCa, makeCrl, type Ca, type Signer } from "./fixtures/pki.js";

const box = cliSandbox("kakunin-lifecycle-");
let ca: Ca;
let log: Signer;
let a1: Signer;
let a2: Signer;
let b1: Signer;
beforeAll(async () => {
  ca = await makeCa();
  [log, a1, a2, b1] = await Promise.all([
    issueLogSigner(ca),
    issueAgent(ca, "agt_alice"),
    issueAgent(ca, "agt_alice"),
    issueAgent(ca, "agt_bob"),
  ]);
}, 120_000);

async function check(lines: string[]): Promise<Report> {
  const r = await verifyExport(lines, { trust: { caFingerprint: ca.fingerprint } });
  const c = box.cli(
    "log",
    box.file(lines.join("\n") + "\n"),
    "--ca-fingerprint",
    ca.fingerprint,
    "--json",
    "--workers",
    "1",
  );
  expect(c.status).toBe(EXIT[r.verdict]);
  expect(c.json!.findings.map((f) => [f.seq, f.verdict, f.code])).toEqual(
    r.findings.map((f) => [f.seq, f.verdict, f.code]),
  );
  return r;
}

describe("lifecycle cross-checks", () => {
  it("certificate.revoked naming another agent's certificate is FAILED ERR_LIFECYCLE", async () => {
    const chain = new ChainBuilder(ca, log);
    await chain.registered(a1);
    await chain.registered(b1);
    await chain.operation(b1);
    await chain.lifecycle("certificate.revoked", a1.agent!, { cert: b1.serial, reason: "keyCompromise" }); // says alice, names bob's
    const r = await check(await chain.exportLines([log, a1, b1], await makeCrl(ca, [], 1)));
    expect(r.verdict).toBe("FAILED");
    expect(r.findings).toContainEqual(expect.objectContaining({ seq: 3, verdict: "FAILED", code: "ERR_LIFECYCLE" }));
  });
  it("an early entry of a rotated-in certificate that the CRL revokes is NO_POE like its later ones (was PASSED)", async () => {
    const chain = new ChainBuilder(ca, log);
    await chain.registered(a1); // 0
    await chain.operation(a1); // 1
    await chain.operation(a2); // 2: a2 in use before its announcement (legal)
    await chain.rotated(a1, a2); // 3
    await chain.operation(a2); // 4
    const crl = await makeCrl(ca, [{ serial: a2.serial, date: new Date(Date.now() - 1000) }], 2);
    const cp = await chain.checkpoint(5, { time: new Date(Date.now()) }); // after the revocation: no proof
    const r = await check(await chain.exportLines([log, a1, a2], crl, { checkpoint: cp }));
    expect(r.verdict).toBe("INDETERMINATE");
    for (const seq of [2, 4])
      expect(r.findings).toContainEqual(expect.objectContaining({ seq, verdict: "INDETERMINATE", reason: "NO_POE" }));
    // Control: without the revocation all pass.
    const ok = await check(await chain.exportLines([log, a1, a2], await makeCrl(ca, [], 3)));
    expect(ok.verdict).toBe("PASSED");
  });
  it("an export that ends between first use and announcement is INDETERMINATE, not FAILED", async () => {
    const chain = new ChainBuilder(ca, log);
    await chain.registered(a1);
    await chain.operation(a1);
    await chain.operation(a2); // 2: the range ends here
    await chain.rotated(a1, a2);
    const r = await check(await chain.exportLines([log, a1, a2], await makeCrl(ca, [], 1), { to: 2 }));
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.findings).toContainEqual(
      expect.objectContaining({ seq: 2, verdict: "INDETERMINATE", code: "ERR_LIFECYCLE" }),
    );
    // The full range announces it: PASSED.
    expect((await check(await chain.exportLines([log, a1, a2], await makeCrl(ca, [], 1)))).verdict).toBe("PASSED");
  });
  it("a certificate still unannounced after a later announcement of another one is FAILED", async () => {
    const a3 = await issueAgent(ca, "agt_alice");
    const chain = new ChainBuilder(ca, log);
    await chain.registered(a1);
    await chain.operation(a3); // 1: never announced
    await chain.operation(a2); // 2
    await chain.rotated(a1, a2); // 3 names a2, not a3
    const r = await check(await chain.exportLines([log, a1, a2, a3], await makeCrl(ca, [], 1)));
    expect(r.verdict).toBe("FAILED");
    expect(r.findings).toContainEqual(expect.objectContaining({ seq: 1, verdict: "FAILED", code: "ERR_LIFECYCLE" }));
  });
});
