/**
 * Issue 13 class 1 — certificate identity. An attacker adds a self-made certificate carrying the
 * serial of a real one; the path check and the signature check must never look at different
 * certificate objects. Two different certificates with one serial → FAILED ERR_CERT_PATH, through
 * the library and the CLI, for receipts and exports, whatever the order.
 */
import { webcrypto } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyReceipt } from "../../../verifier/src/index.js";
import { resign } from "./fixtures/chain.js";
import { cliSandbox, EXIT } from "./fixtures/cli.js";
import { issueAgent, issueLogSigner, type Signer } from "./fixtures/pki.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import * as t from "./tamper.js";

let s: Scenario;
/** The attacker's certificate: a2's serial, subject and SAN, the attacker's key, signed by the attacker. */
let forged: Signer;
let attackerCaKeys: CryptoKeyPair;
const box = cliSandbox("kakunin-identity-");

beforeAll(async () => {
  s = await scenario();
  const keys = (await webcrypto.subtle.generateKey(
    { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  attackerCaKeys = (await webcrypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  forged = await issueAgent(s.ca, "agt_alice", { serial: s.a2.serial, keys, signingKey: attackerCaKeys.privateKey });
}, 120_000);

const trust = () => ({ caFingerprint: s.ca.fingerprint });

/** An operation that never happened, signed by the attacker, naming a2's serial. */
async function forgedReceipt(order: "real-first" | "forged-first") {
  const real = s.chain.entries[5]!;
  const entry = await resign({ ...real, payloadHash: "f".repeat(64) }, forged);
  const certificates = order === "real-first" ? [s.a2.pem, forged.pem, s.ca.pem] : [forged.pem, s.a2.pem, s.ca.pem];
  return { format: "kakunin-receipt/1", entry, certificates, crl: s.crl };
}

describe("two different certificates with one serial", () => {
  for (const order of ["real-first", "forged-first"] as const) {
    it(`receipt (${order}): FAILED ERR_CERT_PATH in the library and exit 1 in the CLI`, async () => {
      const rc = await forgedReceipt(order);
      const r = await verifyReceipt(rc, { trust: trust() });
      expect(r.verdict).toBe("FAILED");
      expect(r.errors).toContainEqual(
        expect.objectContaining({
          code: "ERR_CERT_PATH",
          message: expect.stringContaining(`two different certificates with serial ${s.a2.serial}`),
        }),
      );
      const c = box.cli("receipt", box.file(JSON.stringify(rc)), "--ca-fingerprint", s.ca.fingerprint, "--json");
      expect(c.status).toBe(EXIT.FAILED);
      expect(c.json!.verdict).toBe(r.verdict);
    });
  }

  it("receipt: the real entry with a conflicting extra certificate is FAILED too (the serial is ambiguous)", async () => {
    const rc = await s.chain.receipt(5, { crl: s.crl, certs: [s.a2.pem, forged.pem, s.ca.pem] }, s.signerOf);
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors.map((e) => e.code)).toContain("ERR_CERT_PATH");
    // The same certificate twice is not a conflict.
    const dup = await s.chain.receipt(5, { crl: s.crl, certs: [s.a2.pem, s.a2.pem, s.ca.pem] }, s.signerOf);
    expect((await verifyReceipt(dup, { trust: trust() })).verdict).toBe("PASSED");
  });

  it("receipt: a conflicting serial on the log signer stops the checkpoint from counting", async () => {
    const logForged = await issueLogSigner(s.ca, {
      serial: s.log.serial,
      keys: forged.keys,
      signingKey: attackerCaKeys.privateKey,
    });
    const cp = await s.chain.checkpoint(4, { time: new Date(s.chain.timeOf(3)) });
    const rc = await s.chain.receipt(
      3,
      { crl: s.crl, certs: [s.b1.pem, s.ca.pem, s.log.pem, logForged.pem], checkpoint: cp },
      s.signerOf,
    );
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.findings[0]?.code).not.toBe("OK");
  });

  for (const order of ["real-first", "forged-first"] as const) {
    it(`export (${order}): every entry of that serial FAILED ERR_CERT_PATH, library and CLI agree`, async () => {
      const certIdx = s.lines.findIndex((l) => l.includes(`"serial":"${s.a2.serial}"`));
      const forgedLine = t.editLine(s.lines, certIdx, (v) => {
        v.pem = forged.pem;
      })[certIdx]!;
      const lines = t.insertLine(s.lines, order === "real-first" ? certIdx + 1 : certIdx, forgedLine);
      const r = await verifyExport(lines, { trust: trust() });
      expect(r.verdict).toBe("FAILED");
      expect(r.errors).toContainEqual(
        expect.objectContaining({
          code: "ERR_CERT_PATH",
          message: expect.stringContaining("two different certificates"),
        }),
      );
      for (const seq of [5, 8, 9])
        expect(r.findings).toContainEqual(
          expect.objectContaining({ seq, verdict: "FAILED", reason: "CERT_PATH_FAILURE" }),
        );
      const c = box.cli(
        "log",
        box.file(lines.join("\n") + "\n"),
        "--ca-fingerprint",
        s.ca.fingerprint,
        "--json",
        "--workers",
        "1",
      );
      expect(c.status).toBe(EXIT.FAILED);
      expect(c.json!.findings.filter((f) => f.verdict !== "PASSED").map((f) => f.seq)).toEqual(
        r.findings.filter((f) => f.verdict !== "PASSED").map((f) => f.seq),
      );
    });
  }
});
