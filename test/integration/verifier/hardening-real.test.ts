/**
 * Issue 13 on the real stack (real server child process, real local KMS): the attacks of the
 * hardening classes applied to a REAL export and REAL receipts, through the library and the CLI.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyExportBytes, verifyReceipt } from "../../../verifier/src/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { resign } from "../../unit/verifier/fixtures/chain.js";
import { cliSandbox, EXIT } from "../../unit/verifier/fixtures/cli.js";
import * as t from "../../unit/verifier/tamper.js";
import { ZERO_HASH } from "../../../verifier/src/formats/hash.js";
import { jsonOk } from "../../helpers/http-json.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
type Json = Record<string, any>;
let kms: LocalKms;
let srv: RunningServer;
let caPem: string;
let crlNow: string;
let early: Json; // receipt of an operation made before its agent's revocation
let lines: string[];
const box = cliSandbox("kakunin-hardening-real-");
const enc = new TextEncoder();

const ok = (method: string, path: string, token: string, body?: unknown): Promise<Json> =>
  jsonOk(srv.url, method, path, token, body);

beforeAll(async () => {
  kms = await startLocalKms();
  srv = await startServer({ kmsEndpoint: kms.endpoint });
  const iss = await ok("POST", "/v1/issuers", srv.operatorToken, { name: "Hardening Co" });
  const agent = await ok("POST", "/v1/agents", iss.token, { name: "target-bot" });
  early = await ok("POST", `/v1/agents/${agent.id}/operations`, iss.token, { payload: { pay: 100 } });
  await ok("POST", `/v1/agents/${agent.id}/operations`, iss.token, { payload: { pay: 200 } });
  await ok("POST", `/v1/agents/${agent.id}/revoke`, iss.token, { reason: "keyCompromise" });
  lines = (await ok("GET", "/v1/log/export", iss.token)).text.split("\n").filter((l: string) => l.length > 0);
  caPem = await (await fetch(`${srv.url}/v1/public/ca.pem`)).text();
  crlNow = await (await fetch(`${srv.url}/v1/public/crl.pem`)).text();
}, 180_000);
afterAll(async () => {
  await srv?.stop();
  await kms?.stop();
});
const trust = () => ({ caCertificate: caPem });

describe("real receipts", () => {
  it("revoked after the operation: the receipt's CRL alone PASSED; with the current CRL INDETERMINATE — library and CLI alike", async () => {
    const ca = box.file(caPem, "ca.pem");
    const rc = box.file(JSON.stringify(early));
    const own = await verifyReceipt(early, { trust: trust() });
    expect(own.verdict).toBe("PASSED"); // its own CRL predates the revocation
    expect(box.cli("receipt", rc, "--ca", ca).status).toBe(EXIT[own.verdict]);
    const fresh = await verifyReceipt(early, { trust: trust(), crls: [crlNow] });
    expect(fresh.verdict).toBe("INDETERMINATE");
    expect(fresh.subject?.revocation).toMatchObject({ status: "revoked", reason: "keyCompromise" });
    const c = box.cli("receipt", rc, "--ca", ca, "--crl", box.file(crlNow, "crl-now.pem"), "--json");
    expect(c.status).toBe(EXIT.INDETERMINATE);
    expect(c.json!.subject!.crl.number).toBe(fresh.subject!.crl!.number);
  });
  it("a forged entry with an attacker certificate carrying the real serial is FAILED", async () => {
    const real = new x509.X509Certificate(early.certificates[0]);
    const keys = (await webcrypto.subtle.generateKey(
      { name: "RSA-PSS", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const caKeys = (await webcrypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const forged = await x509.X509CertificateGenerator.create({
      serialNumber: real.serialNumber,
      subject: real.subject,
      issuer: real.issuer,
      notBefore: real.notBefore,
      notAfter: real.notAfter,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      extensions: [...real.extensions],
    });
    const entry = await resign({ ...early.entry, payloadHash: "e".repeat(64) }, { keys } as any);
    const rc = {
      ...early,
      entry,
      certificates: [early.certificates[0], forged.toString("pem"), ...early.certificates.slice(1)],
    };
    const r = await verifyReceipt(rc, { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors.map((e) => e.code)).toContain("ERR_CERT_PATH");
    expect(box.cli("receipt", box.file(JSON.stringify(rc)), "--ca", box.file(caPem)).status).toBe(EXIT.FAILED);
  });
});

describe("a real export", () => {
  it("as served has no parse problem, and every byte flip in an entry or the checkpoint is never PASSED", async () => {
    const base = await verifyExport(lines, { trust: trust() });
    expect(base.errors.filter((e) => e.code === "ERR_MALFORMED")).toEqual([]);
    const signed = lines
      .map((l, i) => (l.startsWith('{"kind":"entry"') || l.startsWith('{"kind":"checkpoint"') ? i : -1))
      .filter((i) => i >= 0);
    for (let k = 0; k < 40; k++) {
      const i = signed[(k * 7) % signed.length]!;
      const l = lines[i]!;
      const p = (k * 131) % l.length;
      const m = [...lines];
      m[i] = l.slice(0, p) + String.fromCharCode(l.charCodeAt(p) ^ (1 << (k % 7))) + l.slice(p + 1);
      expect((await verifyExport(m, { trust: trust() })).verdict, `line ${i + 1} at ${p}`).not.toBe("PASSED");
    }
  });
  it("a duplicate member, a BOM on a body line and invalid UTF-8 are ERR_MALFORMED at that line (library and CLI)", async () => {
    const i = lines.findIndex((l) => l.startsWith('{"kind":"entry"'));
    const dup = [...lines];
    dup[i] = dup[i]!.replace('"payloadHash":', `"payloadHash":"${ZERO_HASH}","payloadHash":`);
    const bom = [...lines];
    bom[i] = "\uFEFF" + bom[i]!;
    const text = lines.join("\n") + "\n";
    const at = text.indexOf('"kind":"entry"');
    const bytes = enc.encode(text);
    const badUtf8 = new Uint8Array([...bytes.slice(0, at), 0xe2, 0x28, ...bytes.slice(at)]);
    for (const [name, input, field] of [
      ["duplicate", enc.encode(dup.join("\n") + "\n"), "entry.payloadHash"],
      ["bom", enc.encode(bom.join("\n") + "\n"), "(line)"],
      ["utf8", badUtf8, "(line)"],
    ] as const) {
      const r = await verifyExportBytes([input], { trust: trust() });
      expect(r.verdict, name).toBe("FAILED");
      expect(r.errors, name).toContainEqual(expect.objectContaining({ code: "ERR_MALFORMED", line: i + 1, field }));
      const c = box.cli("log", box.file(input), "--ca", box.file(caPem), "--json", "--workers", "2");
      expect(c.status, name).toBe(EXIT.FAILED);
      expect(c.stderr, name).toContain(`:${i + 1} field ${field}`);
    }
  });
});
