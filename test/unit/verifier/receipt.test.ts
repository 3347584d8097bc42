import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  canonicalBytes,
  entryHash,
  formatReport,
  verifyReceipt,
  verifySignature,
} from "../../../verifier/src/index.js";
import { jcs, pssSign } from "./fixtures/chain.js";
import { makeCa, makeCrl, publicKeyPem } from "./fixtures/pki.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import { flipBitKeepAlphabet } from "./tamper.js";

let s: Scenario;
beforeAll(async () => {
  s = await scenario();
}, 120_000);
const trust = () => ({ caFingerprint: s.ca.fingerprint });
const receipt = (seq: number, opts: Parameters<Scenario["chain"]["receipt"]>[1] = {}) =>
  s.chain.receipt(seq, { crl: s.crl, ...opts }, s.signerOf);

describe("verifyReceipt", () => {
  it("a valid receipt passes, as object or string, with one PASSED finding", async () => {
    const rc = await receipt(5);
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.errors).toEqual([]);
    expect(r.verdict).toBe("PASSED");
    expect(r.findings).toEqual([expect.objectContaining({ seq: 5, verdict: "PASSED", code: "OK" })]);
    expect(r.subject?.agent).toBe("agt_alice");
    expect((await verifyReceipt(JSON.stringify(rc), { trust: { caCertificate: s.ca.pem } })).verdict).toBe("PASSED");
    expect(formatReport(r)).toContain("PASSED");
  });
  it("a tampered entry fails with ERR_HASH_MISMATCH", async () => {
    const rc = (await receipt(5)) as any;
    rc.entry = { ...rc.entry, time: s.chain.timeOf(6) };
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.findings[0]).toMatchObject({ seq: 5, reason: "HASH_FAILURE", code: "ERR_HASH_MISMATCH" });
  });
  it("a tampered signature fails with ERR_SIG_INVALID", async () => {
    const rc = (await receipt(5)) as any;
    rc.entry = { ...rc.entry, sig: flipBitKeepAlphabet(rc.entry.sig, 10) };
    expect((await verifyReceipt(rc, { trust: trust() })).findings[0]?.code).toBe("ERR_SIG_INVALID");
  });
  it("a signer revoked per CRL gives INDETERMINATE NO_POE", async () => {
    const r = await verifyReceipt(await receipt(3), { trust: trust() });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.findings[0]).toMatchObject({ reason: "NO_POE", code: "ERR_NO_POE" });
    expect(r.subject?.revocation?.status).toBe("revoked");
  });
  it("a checkpoint older than the revocation, with the log signer cert, proves precedence", async () => {
    const rc = await receipt(3, { certs: [s.b1.pem, s.ca.pem, s.log.pem] });
    const cp = await s.chain.checkpoint(4, { time: new Date(s.chain.timeOf(3)) });
    const r = await verifyReceipt({ ...rc, checkpoint: cp }, { trust: trust() });
    expect(r.verdict).toBe("PASSED");
  });
  it("payload given: equal passes, changed is FAILED PAYLOAD_MISMATCH", async () => {
    const rc = await receipt(5);
    const payload = s.chain.payloads.get(5) as { json: unknown };
    expect((await verifyReceipt(rc, { trust: trust(), payload: { json: payload.json } })).verdict).toBe("PASSED");
    const r = await verifyReceipt(rc, { trust: trust(), payload: { json: { op: "transfer", n: 6 } } });
    expect(r.findings[0]).toMatchObject({
      verdict: "FAILED",
      reason: "PAYLOAD_MISMATCH",
      code: "ERR_PAYLOAD_MISMATCH",
    });
    const raw = await receipt(3, { crl: await makeCrl(s.ca, [], 1) });
    expect(
      (await verifyReceipt(raw, { trust: trust(), payload: new TextEncoder().encode("raw payload bytes") })).verdict,
    ).toBe("PASSED");
    expect(
      (await verifyReceipt(raw, { trust: trust(), payload: new TextEncoder().encode("raw payload bytez") })).verdict,
    ).toBe("FAILED");
  });
  it("the receipt's own CA is not trusted: another pinned CA gives ERR_UNTRUSTED_ROOT", async () => {
    const other = await makeCa();
    const r = await verifyReceipt(await receipt(5), { trust: { caFingerprint: other.fingerprint } });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors[0]?.code).toBe("ERR_UNTRUSTED_ROOT");
    const r2 = await verifyReceipt(await receipt(5), { trust: { caCertificate: other.pem } });
    expect(r2.errors.map((e) => e.code)).toEqual(expect.arrayContaining(["ERR_UNTRUSTED_ROOT", "ERR_CERT_PATH"]));
  });
  it("no CRL at all: revocation unknown → INDETERMINATE", async () => {
    const rc = (await receipt(5)) as any;
    delete rc.crl;
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.errors.map((e) => e.code)).toContain("ERR_CRL");
    // A CRL passed by the caller (base64 DER) fills the gap.
    const der = s.crl.replace(/-----[^-]+-----|\s/g, "");
    expect((await verifyReceipt(rc, { trust: trust(), crls: [der] })).verdict).toBe("PASSED");
  });
  it("garbage is ERR_MALFORMED naming the field", async () => {
    for (const [input, field] of [
      ["{", "(receipt)"],
      [{ format: "x" }, "format"],
      [{ format: "kakunin-receipt/1", entry: { v: 1 } }, "entry.type"],
    ] as const) {
      const r = await verifyReceipt(input, { trust: trust() });
      expect(r.verdict).toBe("FAILED");
      expect(r.errors[0]).toMatchObject({ code: "ERR_MALFORMED", field });
    }
  });
});

describe("verifySignature", () => {
  it("verifies a bare PSS signature; a changed message fails", async () => {
    const message = new TextEncoder().encode("hello regulator");
    const sig = await pssSign(s.a2, message);
    const crls = [s.crl];
    const ok = await verifySignature({
      message,
      signature: sig,
      certificate: s.a2.pem,
      trust: { caCertificate: s.ca.pem },
      crls,
    });
    expect(ok.verdict).toBe("PASSED");
    const bad = await verifySignature({
      message: new TextEncoder().encode("hello regulatoR"),
      signature: sig,
      certificate: s.a2.pem,
      trust: { caCertificate: s.ca.pem },
      crls,
    });
    expect(bad.findings[0]).toMatchObject({ reason: "SIG_CRYPTO_FAILURE", code: "ERR_SIG_INVALID" });
    // Fingerprint trust needs the CA in the bundle.
    const fp = await verifySignature({
      message,
      signature: sig,
      certificate: s.a2.pem + s.ca.pem,
      trust: trust(),
      crls,
    });
    expect(fp.verdict).toBe("PASSED");
  });
  it("a revoked certificate gives NO_POE; bad base64 is ERR_MALFORMED", async () => {
    const message = new TextEncoder().encode("x");
    const sig = await pssSign(s.b1, message);
    const r = await verifySignature({
      message,
      signature: sig,
      certificate: s.b1.pem,
      trust: { caCertificate: s.ca.pem },
      crls: [s.crl],
    });
    expect(r.findings[0]?.code).toBe("ERR_NO_POE");
    const m = await verifySignature({
      message,
      signature: "%%%",
      certificate: s.b1.pem,
      trust: { caCertificate: s.ca.pem },
    });
    expect(m.errors[0]).toMatchObject({ code: "ERR_MALFORMED", field: "signature" });
  });
});

describe("openssl cross-check", () => {
  it("openssl dgst agrees with the verifier on sample entries (valid and tampered)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kakunin-ossl-"));
    for (const seq of [2, 4, 5]) {
      const e = s.chain.entries[seq]!;
      const signer = s.signerOf((e.signer as { cert: string }).cert);
      const { hash: _h, sig, ...body } = e;
      const bytes = canonicalBytes(body);
      expect(Buffer.from(bytes).equals(jcs(body))).toBe(true);
      expect(await entryHash(e)).toBe(e.hash);
      writeFileSync(join(dir, "entry.jcs"), bytes);
      writeFileSync(join(dir, "sig.bin"), Buffer.from(sig, "base64"));
      writeFileSync(join(dir, "pub.pem"), await publicKeyPem(signer));
      const ossl = (file: string) => {
        try {
          execFileSync(
            "openssl",
            [
              "dgst",
              "-sha256",
              "-sigopt",
              "rsa_padding_mode:pss",
              "-sigopt",
              "rsa_pss_saltlen:32",
              "-verify",
              join(dir, "pub.pem"),
              "-signature",
              join(dir, "sig.bin"),
              join(dir, file),
            ],
            { stdio: "pipe" },
          );
          return true;
        } catch {
          return false;
        }
      };
      expect(ossl("entry.jcs")).toBe(true);
      const tampered = Buffer.from(bytes);
      tampered[10]! ^= 1;
      writeFileSync(join(dir, "tampered.jcs"), tampered);
      expect(ossl("tampered.jcs")).toBe(false);
      expect(
        execFileSync("openssl", ["dgst", "-sha256", "-r", join(dir, "entry.jcs")])
          .toString()
          .split(" ")[0],
      ).toBe(e.hash);
    }
  });
  it("the fixture certificates pass openssl verify -x509_strict -crl_check", () => {
    const dir = mkdtempSync(join(tmpdir(), "kakunin-ossl-"));
    writeFileSync(join(dir, "ca.pem"), s.ca.pem);
    writeFileSync(join(dir, "crl.pem"), s.crl.replace(/X509 CRL/g, "X509 CRL"));
    writeFileSync(join(dir, "a2.pem"), s.a2.pem);
    const out = execFileSync(
      "openssl",
      [
        "verify",
        "-x509_strict",
        "-crl_check",
        "-CAfile",
        join(dir, "ca.pem"),
        "-CRLfile",
        join(dir, "crl.pem"),
        "-purpose",
        "any",
        join(dir, "a2.pem"),
      ],
      { stdio: "pipe" },
    ).toString();
    expect(out).toContain("OK");
  });
});
