/**
 * Issue 13 class 3 — log-signer trust. The checkpoint is the attacker's lever for "proof of
 * existence": a checkpoint by a revoked log signer, a checkpoint dated before the entries it
 * covers, or a receipt checkpoint whose head is another entry must never prove anything. Plus the
 * same-second rule for CRL revocation dates (1 s precision) against millisecond times.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyReceipt, type Report } from "../../../verifier/src/index.js";
import { cliSandbox, EXIT } from "./fixtures/cli.js";
import { makeCrl } from "./fixtures/pki.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";

let s: Scenario;
const box = cliSandbox("kakunin-logsigner-");
beforeAll(async () => {
  s = await scenario();
}, 120_000);
const trust = () => ({ caFingerprint: s.ca.fingerprint });
const ms = (seq: number) => Date.parse(s.chain.timeOf(seq));
/** Start of the second after `t` + n seconds (what a CRL can state). */
const second = (t: number, n = 0) => Math.ceil(t / 1000) * 1000 + n * 1000;

/** Range 0..6 (b1 revoked in the CRL only: its entries 3 and 6 need a proof of existence). */
async function exportUpTo6(opts: { crlRevoked: { serial: string; date: number }[]; cpTime: number }) {
  const crl = await makeCrl(
    s.ca,
    opts.crlRevoked.map((r) => ({ serial: r.serial, date: new Date(r.date) })),
    9,
  );
  const checkpoint = await s.chain.checkpoint(7, { time: new Date(opts.cpTime) });
  return s.chain.exportLines(s.certs, crl, { to: 6, checkpoint });
}

function both(lines: string[], r: Report) {
  const c = box.cli(
    "log",
    box.file(lines.join("\n") + "\n"),
    "--ca-fingerprint",
    s.ca.fingerprint,
    "--json",
    "--workers",
    "1",
  );
  expect(c.status).toBe(EXIT[r.verdict]);
  expect(c.json!.verdict).toBe(r.verdict);
  return c;
}

describe("export: a checkpoint's proof of existence", () => {
  it("control: an honest checkpoint before b1's revocation proves its entries (PASSED)", async () => {
    const revB = second(ms(6), 5);
    const lines = await exportUpTo6({ crlRevoked: [{ serial: s.b1.serial, date: revB }], cpTime: ms(6) + 500 });
    const r = await verifyExport(lines, { trust: trust() });
    expect(r.errors).toEqual([]);
    expect(r.verdict).toBe("PASSED");
    both(lines, r);
  });
  it("a checkpoint by a log signer revoked before the checkpoint's time proves nothing: NO_POE, INDETERMINATE", async () => {
    const revB = second(ms(6), 5);
    const lines = await exportUpTo6({
      crlRevoked: [
        { serial: s.b1.serial, date: revB },
        { serial: s.log.serial, date: second(ms(6)) - 1000 },
      ],
      cpTime: ms(6) + 500,
    });
    const r = await verifyExport(lines, { trust: trust() });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CHECKPOINT", message: expect.stringContaining("proves nothing") }),
    );
    for (const seq of [3, 6]) expect(r.findings).toContainEqual(expect.objectContaining({ seq, reason: "NO_POE" }));
    both(lines, r);
  });
  it("a checkpoint dated before its last entry is FAILED ERR_CHECKPOINT", async () => {
    const lines = await exportUpTo6({ crlRevoked: [], cpTime: ms(6) - 1 });
    const r = await verifyExport(lines, { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors).toContainEqual(
      expect.objectContaining({
        code: "ERR_CHECKPOINT",
        message: expect.stringContaining("before the time of entry 6"),
      }),
    );
    both(lines, r);
  });
  it("same second: a checkpoint within the revocation's second does not prove precedence; 1 ms before its start does", async () => {
    const revB = second(ms(6), 2); // whole second, as a CRL states it
    const same = await exportUpTo6({ crlRevoked: [{ serial: s.b1.serial, date: revB }], cpTime: revB + 400 });
    const r1 = await verifyExport(same, { trust: trust() });
    expect(r1.verdict).toBe("INDETERMINATE");
    expect(r1.findings).toContainEqual(expect.objectContaining({ seq: 3, reason: "NO_POE" }));
    both(same, r1);
    const atStart = await exportUpTo6({ crlRevoked: [{ serial: s.b1.serial, date: revB }], cpTime: revB });
    expect((await verifyExport(atStart, { trust: trust() })).verdict).toBe("INDETERMINATE");
    const before = await exportUpTo6({ crlRevoked: [{ serial: s.b1.serial, date: revB }], cpTime: revB - 1 });
    const r2 = await verifyExport(before, { trust: trust() });
    expect(r2.verdict).toBe("PASSED");
    both(before, r2);
  });
});

describe("receipt: the checkpoint", () => {
  const withLog = [() => s.b1.pem, () => s.ca.pem, () => s.log.pem];
  async function receipt3(cp: Record<string, unknown>, crl = s.crl) {
    return s.chain.receipt(3, { crl, certs: withLog.map((f) => f()), checkpoint: cp }, s.signerOf);
  }
  function cliAgrees(rc: unknown, r: Report) {
    const c = box.cli("receipt", box.file(JSON.stringify(rc)), "--ca-fingerprint", s.ca.fingerprint, "--json");
    expect(c.status).toBe(EXIT[r.verdict]);
    expect(c.json!.verdict).toBe(r.verdict);
  }
  it("size == seq + 1 with another head is FAILED, never 'covers the entry'", async () => {
    const cp = await s.chain.checkpoint(4, { time: new Date(ms(3) + 100), head: s.chain.entries[2]!.hash });
    const rc = await receipt3(cp);
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors).toContainEqual(
      expect.objectContaining({
        code: "ERR_CHECKPOINT",
        message: expect.stringContaining("head is not this entry's hash"),
      }),
    );
    expect(r.steps.find((x) => x.name === "checkpoint")?.detail).not.toContain("covers the entry");
    cliAgrees(rc, r);
  });
  it("a checkpoint dated before the entry is FAILED", async () => {
    const cp = await s.chain.checkpoint(4, { time: new Date(ms(3) - 1) });
    const rc = await receipt3(cp);
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors.map((e) => e.code)).toContain("ERR_CHECKPOINT");
    cliAgrees(rc, r);
  });
  it("a checkpoint by a revoked log signer does not launder a revoked agent's entry (INDETERMINATE)", async () => {
    const cpTime = ms(3) + 100;
    const crl = await makeCrl(
      s.ca,
      [
        { serial: s.b1.serial, date: new Date(second(ms(7))) },
        { serial: s.log.serial, date: new Date(second(ms(3)) - 1000) },
      ],
      10,
    );
    const rc = await receipt3(await s.chain.checkpoint(4, { time: new Date(cpTime) }), crl);
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.errors.map((e) => e.code)).toContain("ERR_NO_POE");
    expect(r.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_CHECKPOINT", message: expect.stringContaining("proves nothing") }),
    );
    cliAgrees(rc, r);
  });
  it("a checkpoint beyond the entry (size > seq + 1) proves nothing about it and says so", async () => {
    const rc = await receipt3(await s.chain.checkpoint(6, { time: new Date(ms(5) + 100) }));
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.findings[0]).toMatchObject({ reason: "NO_POE" });
    expect(r.steps.find((x) => x.name === "checkpoint")?.detail).toContain("proves nothing about this entry");
  });
  it("same second: the checkpoint within the revocation's second is NO_POE; before its start PASSED", async () => {
    const rev = second(ms(3), 1);
    const crl = await makeCrl(s.ca, [{ serial: s.b1.serial, date: new Date(rev) }], 11);
    const same = await receipt3(await s.chain.checkpoint(4, { time: new Date(rev + 999) }), crl);
    const r1 = await verifyReceipt(same, { trust: trust() });
    expect(r1.findings[0]).toMatchObject({ reason: "NO_POE" });
    cliAgrees(same, r1);
    const before = await receipt3(await s.chain.checkpoint(4, { time: new Date(rev - 1) }), crl);
    const r2 = await verifyReceipt(before, { trust: trust() });
    expect(r2.verdict).toBe("PASSED");
    cliAgrees(before, r2);
  });
});
