/**
 * The verifier against a REAL export: the real server (child process) and the real local KMS.
 * Issuer A has agents A1 and A2; A1 is rotated mid-stream, A2 revoked after some operations;
 * issuer B is a second chain to splice from. Then the tamper matrix over that export, the CLI's exit
 * codes, the verdicts across rotation/revocation with every old key disabled in KMS, an openssl
 * cross-check and receipts.
 */
import "reflect-metadata";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DescribeKeyCommand, GetPublicKeyCommand } from "@aws-sdk/client-kms";
import canonicalize from "canonicalize";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  entryCanonicalBytes,
  verifyExport,
  verifyReceipt,
  type Report,
  type TrustAnchor,
} from "../../../verifier/src/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { jcs, pssSign, sha256 } from "../../unit/verifier/fixtures/chain.js";
import { issue, makeCa, makeCrl, type Ca, type Signer } from "../../unit/verifier/fixtures/pki.js";
import * as t from "../../unit/verifier/tamper.js";
import { parseEntry } from "../../../verifier/src/parse/entry.js";
import { parseEntryLineFast } from "../../../verifier/src/parse/entry-fast.js";
import { withoutFields } from "../../../verifier/src/formats/canonical.js";
import { ZERO_HASH } from "../../../verifier/src/formats/hash.js";
import { jsonRequest } from "../../helpers/http-json.js";

const BIN = resolve(__dirname, "../../../verifier/bin/kakunin-verify.js");
type Json = Record<string, any>;

let kms: LocalKms;
let srv: RunningServer;
let dir: string;
let caPem: string;
let caFp: string;
/** Issuer A's untouched export (lines, no empty line) and B's. */
let A: string[];
let B: string[];
let ids: { issuerA: string; issuerB: string; a1: string; a2: string; b1: string };
/** Serials: A1 before and after rotation, A2, the log signer. */
let serials: { a1old: string; a1new: string; a2: string; log: string };
/** seq of notable entries in A's chain. */
let at: {
  rotated: number;
  revoked: number;
  a1Before: number[];
  a1After: number[];
  a2Before: number[];
  withDetails: number;
  jsonPayload: number;
  b64Payload: number;
};
let receipt: { json: Json; payload: unknown };

const call = (method: string, path: string, token: string, body?: unknown) =>
  jsonRequest(srv.url, method, path, token, body);
async function ok(method: string, path: string, token: string, body?: unknown) {
  const r = await call(method, path, token, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r;
}
const entries = (lines: readonly string[]) =>
  lines
    .map((l) => JSON.parse(l))
    .filter((v) => v.kind === "entry")
    .map((v) => v.entry as Json);
const certLines = (lines: readonly string[]) =>
  lines.map((l) => JSON.parse(l)).filter((v) => v.kind === "certificate") as Json[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kakunin-verifier-real-"));
  kms = await startLocalKms();
  srv = await startServer({ kmsEndpoint: kms.endpoint });
  const issA = (await ok("POST", "/v1/issuers", srv.operatorToken, { name: "Acme Robotics" })).json;
  const issB = (await ok("POST", "/v1/issuers", srv.operatorToken, { name: "Beta Logistics" })).json;
  const a1 = (await ok("POST", "/v1/agents", issA.token, { name: "invoice-bot" })).json;
  const a2 = (await ok("POST", "/v1/agents", issA.token, { name: "payments-bot" })).json;
  const b1 = (await ok("POST", "/v1/agents", issB.token, { name: "courier-bot" })).json;
  ids = { issuerA: issA.id, issuerB: issB.id, a1: a1.id, a2: a2.id, b1: b1.id };
  const op = (agent: string, body: Json, token = issA.token) =>
    ok("POST", `/v1/agents/${agent}/operations`, token, body);
  const opSeq = async (agent: string, body: Json, token = issA.token) =>
    (await op(agent, body, token)).json.entry.seq as number;

  const a1Before = [await opSeq(a1.id, { payload: { invoice: 1, amount: "12.50", currency: "EUR" } })];
  const a2Before = [await opSeq(a2.id, { payloadBase64: Buffer.from("pay 100 to ACME\n").toString("base64") })];
  const withDetails = await opSeq(a1.id, {
    payloadBase64: Buffer.from([0, 1, 2, 250, 255]).toString("base64"),
    contentType: "application/octet-stream",
  });
  a1Before.push(withDetails);
  a2Before.push(await opSeq(a2.id, { payload: { transfer: { to: "ACME", cents: 10000 }, note: "Grüße ✓" } }));
  const rot = (await ok("POST", `/v1/agents/${a1.id}/rotate`, issA.token)).json;
  const a1After = [await opSeq(a1.id, { payload: { invoice: 2, lines: [1, 2, 3] } })];
  a2Before.push(await opSeq(a2.id, { payload: [true, null, "x"] }));
  await ok("POST", `/v1/agents/${a2.id}/revoke`, issA.token, { reason: "keyCompromise" });
  // A revoked agent cannot sign any more.
  const refused = await call("POST", `/v1/agents/${a2.id}/operations`, issA.token, { payload: { late: true } });
  expect(refused.status).toBeGreaterThanOrEqual(400);
  expect(refused.status).toBeLessThan(500);
  a1After.push(await opSeq(a1.id, { payloadBase64: Buffer.from("after revocation of A2").toString("base64") }));
  const last = (await op(a1.id, { payload: { invoice: 3, final: true } })).json;
  a1After.push(last.entry.seq);
  receipt = { json: last, payload: { invoice: 3, final: true } };
  for (let i = 0; i < 3; i++) await opSeq(b1.id, { payload: { parcel: i } }, issB.token);

  A = (await ok("GET", "/v1/log/export?payloads=true", issA.token)).text.split("\n").filter((l) => l.length > 0);
  B = (await ok("GET", "/v1/log/export?payloads=true", issB.token)).text.split("\n").filter((l) => l.length > 0);
  caPem = await (await fetch(`${srv.url}/v1/public/ca.pem`)).text();
  caFp = `sha256:${sha256(new X509Certificate(caPem).raw)}`;

  const es = entries(A);
  const rotated = es.find((e) => e.type === "key.rotated")!;
  const revoked = es.find((e) => e.type === "certificate.revoked")!;
  serials = {
    a1old: rot.rotation.oldSerial,
    a1new: rot.rotation.newSerial,
    a2: a2.certificate.serial,
    log: rotated.signer.cert,
  };
  at = {
    rotated: rotated.seq,
    revoked: revoked.seq,
    a1Before,
    a1After,
    a2Before,
    withDetails,
    jsonPayload: a1Before[0]!,
    b64Payload: a2Before[0]!,
  };
}, 180_000);

afterAll(async () => {
  await srv?.stop();
  await kms?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const pinned = (): TrustAnchor => ({ caFingerprint: caFp });
const verify = (lines: readonly string[], trust: TrustAnchor = pinned()) => verifyExport(lines, { trust });
const codesAt = (r: Report, seq: number) => r.errors.filter((e) => e.seq === seq).map((e) => e.code);
const codes = (r: Report) => [...new Set(r.errors.map((e) => e.code))];
const file = (name: string, lines: readonly string[] | string) => {
  const p = join(dir, name);
  writeFileSync(p, typeof lines === "string" ? lines : lines.join("\n") + "\n");
  return p;
};
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 120_000 });

/** Flips one bit in the middle of a PEM's DER (inside the public key for a certificate) and re-encodes it. */
function flipDerBit(pem: string): string {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)![1]!;
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  der[der.length >> 1]! ^= 0x01;
  return `-----BEGIN ${label}-----\n${der
    .toString("base64")
    .match(/.{1,64}/g)!
    .join("\n")}\n-----END ${label}-----\n`;
}
/** Deletes entry `seq` and its payload line, as an attacker would. */
function deleteEntryAndPayload(lines: readonly string[], seq: number): string[] {
  const i = t.entryIndex(lines, seq);
  const hasPayload = lines[i + 1]?.startsWith('{"kind":"payload"');
  return lines.filter((_, j) => j !== i && !(hasPayload && j === i + 1));
}

/** Asserts a FAILED report with `code` at `seq` (or anywhere when seq is undefined). */
function expectDetected(r: Report, code: string, seq?: number) {
  expect(r.verdict).toBe("FAILED");
  if (seq === undefined) expect(codes(r)).toContain(code);
  else expect(codesAt(r, seq)).toContain(code);
}

describe("a real export (real server, real local KMS)", () => {
  it("conforms to FORMATS.md in shape and passes untouched", async () => {
    const kinds = A.map((l) => JSON.parse(l).kind as string);
    expect(kinds[0]).toBe("header");
    expect(kinds.at(-1)).toBe("checkpoint");
    expect(kinds.filter((k) => k === "crl")).toHaveLength(1);
    expect(new Set(certLines(A).map((c) => c.serial))).toEqual(new Set(Object.values(serials)));
    const es = entries(A);
    expect(es.map((e) => e.seq)).toEqual(es.map((_, i) => i));
    expect(es[0]!.prevHash).toBe(ZERO_HASH);
    for (const e of es) {
      const { hash, sig, ...body } = e;
      expect(hash).toBe(sha256(jcs(body)));
      expect(sig).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
      expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(e.signer.alg).toBe("RSASSA_PSS_SHA_256");
    }
    const r = await verify(A);
    expect(r.errors).toEqual([]);
    expect(r.verdict).toBe("PASSED");
    expect(r.counts).toEqual({ entries: es.length, passed: es.length, failed: 0, indeterminate: 0 });
    expect(r.steps.find((s) => s.name === "payloads")?.status).toBe("passed");
    expect((await verify(A, { caCertificate: caPem })).verdict).toBe("PASSED");
    expect((await verify(B)).verdict).toBe("PASSED");
  });

  it("every operation line the server writes takes the CLI's fast path (and agrees with the general one)", () => {
    const ops = A.filter((l) => l.includes('"type":"agent.operation"'));
    expect(ops.length).toBeGreaterThan(3);
    for (const l of ops) {
      const fast = parseEntryLineFast(l);
      expect(fast, l.slice(0, 120)).toBeDefined();
      const entry = JSON.parse(l).entry as Json;
      expect(fast!.entry).toEqual(parseEntry(entry, "entry"));
      expect(fast!.canonical).toBe(canonicalize(withoutFields(entry, "hash", "sig")));
    }
  });

  it("spans a rotation and a revocation: right per-entry verdicts with every old key disabled in KMS", async () => {
    // Every key that signed something and is no longer current is disabled in KMS right now.
    const client = kms.client({ maxAttempts: 1 });
    const byserial = new Map(certLines(A).map((c) => [c.serial as string, c]));
    for (const serial of [serials.a1old, serials.a2]) {
      const keyId = byserial.get(serial)!.keyArn as string;
      expect(byserial.get(serial)!.keyState).toBe("Disabled");
      const d = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
      expect(d.KeyMetadata?.KeyState).toBe("Disabled");
      await expect(client.send(new GetPublicKeyCommand({ KeyId: keyId }))).rejects.toMatchObject({
        name: "DisabledException",
      });
    }
    client.destroy();
    expect(byserial.get(serials.a1old)!.status).toBe("superseded");
    expect(byserial.get(serials.a2)!.status).toBe("revoked");
    expect(byserial.get(serials.a1new)!.status).toBe("active");

    const es = entries(A);
    const signerOf = (seq: number) => es[seq]!.signer.cert;
    for (const s of at.a1Before) expect([s < at.rotated, signerOf(s)]).toEqual([true, serials.a1old]);
    for (const s of at.a1After) expect([s > at.rotated, signerOf(s)]).toEqual([true, serials.a1new]);
    for (const s of at.a2Before) expect([s < at.revoked, signerOf(s)]).toEqual([true, serials.a2]);

    const r = await verify(A);
    expect(r.verdict).toBe("PASSED");
    // Findings list every non-PASSED entry: none. The counts show every entry was judged PASSED.
    expect(r.findings).toEqual([]);
    expect(r.counts.passed).toBe(es.length);
    expect(r.steps.find((s) => s.name === "CRL")?.detail).toContain("1 revoked");

    // An entry claiming the old (now disabled) key after the rotation cannot carry a valid signature.
    const forged = t.editEntry(A, at.a1After[0]!, (e) => {
      e.signer = es[at.a1Before[0]!]!.signer;
    });
    expectDetected(await verify(forged), "ERR_SIG_INVALID", at.a1After[0]);
  });

  it("agrees with openssl dgst on a sample of entries", async () => {
    const es = entries(A);
    const pems = new Map(certLines(A).map((c) => [c.serial as string, c.pem as string]));
    const sample = [0, at.a1Before[0]!, at.a2Before[1]!, at.rotated, at.a1After[0]!, at.revoked, es.length - 1];
    const ossl = (entry: Json, name: string) => {
      const pub = file(
        `${name}.pub.pem`,
        new X509Certificate(pems.get(entry.signer.cert)!).publicKey.export({ type: "spki", format: "pem" }) as string,
      );
      const msg = join(dir, `${name}.jcs`);
      writeFileSync(msg, entryCanonicalBytes(entry as never));
      const sig = join(dir, `${name}.sig`);
      writeFileSync(sig, Buffer.from(entry.sig, "base64"));
      const r = spawnSync(
        "openssl",
        [
          "dgst",
          "-sha256",
          "-sigopt",
          "rsa_padding_mode:pss",
          "-sigopt",
          "rsa_pss_saltlen:32",
          "-verify",
          pub,
          "-signature",
          sig,
          msg,
        ],
        { encoding: "utf8" },
      );
      return r.status === 0 && r.stdout.includes("Verified OK");
    };
    for (const seq of sample) {
      const e = es[seq]!;
      expect(ossl(e, `e${seq}`), `openssl on seq ${seq}`).toBe(true);
      // And both reject the same single-bit change in the signed bytes.
      const bad = { ...e, time: t.flipBitKeepAlphabet(e.time, e.time.length - 2) };
      expect(ossl(bad, `bad${seq}`), `openssl on tampered seq ${seq}`).toBe(false);
      const r = await verify(
        t.editEntry(A, seq, (x) => {
          x.time = bad.time;
        }),
      );
      expect(codesAt(r, seq)).toContain("ERR_HASH_MISMATCH");
    }
    expect((await verify(A)).verdict).toBe("PASSED");
  });

  it("a receipt from the real server verifies (payload given: PASSED; wrong payload: PAYLOAD_MISMATCH)", async () => {
    expect(receipt.json.format).toBe("kakunin-receipt/1");
    const good = await verifyReceipt(receipt.json, { trust: pinned(), payload: { json: receipt.payload } });
    expect(good.errors).toEqual([]);
    expect(good.verdict).toBe("PASSED");
    const bad = await verifyReceipt(JSON.stringify(receipt.json), {
      trust: { caCertificate: caPem },
      payload: { json: { invoice: 3, final: false } },
    });
    expect(bad.verdict).toBe("FAILED");
    expect(bad.errors.map((e) => e.code)).toEqual(["ERR_PAYLOAD_MISMATCH"]);
    expect(bad.findings[0]?.reason).toBe("PAYLOAD_MISMATCH");
    const p = file("receipt.json", JSON.stringify(receipt.json));
    expect(
      cli(
        "receipt",
        p,
        "--ca-fingerprint",
        caFp,
        "--payload-json",
        file("payload.json", JSON.stringify(receipt.payload)),
      ).status,
    ).toBe(0);
    expect(cli("receipt", p, "--ca-fingerprint", caFp, "--payload-json", file("payload2.json", "[1]")).status).toBe(1);
  });
});

describe("tamper matrix over the real export", () => {
  const T = () => at.withDetails; // an A1 operation with details, signed by the key later rotated out and disabled
  const entryFields = [
    "v",
    "seq",
    "time",
    "type",
    "issuer",
    "agent",
    "signer.cert",
    "signer.key",
    "signer.alg",
    "payloadHash",
    "prevHash",
    "details.contentType",
    "hash",
    "sig",
  ];
  const expected: Record<string, { code: string; seq?: (s: number) => number }> = {
    v: { code: "ERR_MALFORMED" }, // v must be 1: a shape error, named with its line
    seq: { code: "ERR_CHAIN_BROKEN", seq: (s) => s ^ 1 },
    time: { code: "ERR_HASH_MISMATCH" },
    type: { code: "ERR_HASH_MISMATCH" },
    issuer: { code: "ERR_WRONG_ISSUER" },
    agent: { code: "ERR_HASH_MISMATCH" },
    "signer.cert": { code: "ERR_UNKNOWN_SIGNER" },
    "signer.key": { code: "ERR_HASH_MISMATCH" },
    "signer.alg": { code: "ERR_HASH_MISMATCH" },
    payloadHash: { code: "ERR_HASH_MISMATCH" },
    prevHash: { code: "ERR_CHAIN_BROKEN" },
    "details.contentType": { code: "ERR_HASH_MISMATCH" },
    hash: { code: "ERR_HASH_MISMATCH" },
    sig: { code: "ERR_SIG_INVALID" },
  };
  for (const field of entryFields) {
    it(`one bit flipped in entry.${field} → ${expected[field]!.code}`, async () => {
      const seq = T();
      const lines = t.flipEntryField(A, seq, field);
      expect(lines).not.toEqual(A);
      const r = await verify(lines);
      const exp = expected[field]!;
      if (exp.code === "ERR_MALFORMED") {
        expect(r.verdict).toBe("FAILED");
        expect(r.errors).toContainEqual(
          expect.objectContaining({ code: "ERR_MALFORMED", line: t.entryIndex(A, seq) + 1, field: `entry.${field}` }),
        );
      } else expectDetected(r, exp.code, exp.seq ? exp.seq(seq) : seq);
      // Every change to the signed bytes is also a hash mismatch (except hash/sig themselves and v).
      if (!["v", "hash", "sig"].includes(field))
        expect(codesAt(r, exp.seq ? exp.seq(seq) : seq)).toContain("ERR_HASH_MISMATCH");
    });
  }
  it("one bit flipped in a lifecycle entry's details (key.rotated newCert) → ERR_HASH_MISMATCH at its seq", async () => {
    expectDetected(await verify(t.flipEntryField(A, at.rotated, "details.newCert")), "ERR_HASH_MISMATCH", at.rotated);
  });

  it("one bit flipped in a certificate line's PEM (inside its DER) → ERR_CERT_PATH, and its entries fail", async () => {
    const i = A.findIndex((l) => l.includes(`"serial":"${serials.a1old}"`));
    const r = await verify(
      t.editLine(A, i, (v) => {
        v.pem = flipDerBit(v.pem);
      }),
    );
    expect(r.verdict).toBe("FAILED");
    expect(r.errors).toContainEqual(expect.objectContaining({ code: "ERR_CERT_PATH", line: i + 1 }));
    for (const s of at.a1Before) expect(r.findings.find((f) => f.seq === s)?.verdict).toBe("FAILED");
  });
  it("one bit flipped in the CRL → ERR_CRL (revocation unknown)", async () => {
    const r = await verify(
      t.editKind(A, "crl", (v) => {
        v.pem = flipDerBit(v.pem);
      }),
    );
    expect(r.verdict).not.toBe("PASSED");
    expect(codes(r)).toContain("ERR_CRL");
  });
  for (const field of ["issuer", "size", "head", "time", "signer.cert", "signer.key", "signer.alg", "sig"]) {
    it(`one bit flipped in checkpoint.${field} → ERR_CHECKPOINT on its line`, async () => {
      const i = t.kindIndex(A, "checkpoint");
      const r = await verify(t.flipLineField(A, i, `checkpoint.${field}`));
      expect(r.verdict).toBe("FAILED");
      // Any change breaks the log signer's signature; a changed signer is not in the export.
      expect([...new Set(r.errors.map((e) => `${e.code}@${e.line}`))]).toEqual([`ERR_CHECKPOINT@${i + 1}`]);
    });
  }

  it("an entry deleted → ERR_CHAIN_BROKEN at the next seq", async () => {
    const s = at.a2Before[1]!;
    const r = await verify(deleteEntryAndPayload(A, s));
    expectDetected(r, "ERR_CHAIN_BROKEN", s + 1);
  });
  it("an entry inserted (forged by an attacker's key, linked in) → ERR_SIG_INVALID and the displaced entry ERR_CHAIN_BROKEN", async () => {
    const s = at.a1Before[0]!;
    const es = entries(A);
    const attacker = await issue(await makeCa("Kakunin Root CA"), "agent", { cn: ids.a1, o: "Acme Robotics" });
    const body: Json = { ...es[s]!, seq: s + 1, prevHash: es[s]!.hash, payloadHash: sha256(jcs({ invoice: 666 })) };
    delete body.hash;
    delete body.sig;
    const bytes = jcs(body);
    const forged = { ...body, hash: sha256(bytes), sig: await pssSign(attacker, bytes) };
    const i = t.entryIndex(A, s);
    const lines = t.insertLine(A, i + 2, JSON.stringify({ kind: "entry", entry: forged })); // after entry s and its payload
    const r = await verify(lines);
    expectDetected(r, "ERR_SIG_INVALID", s + 1);
    expect(codesAt(r, s + 1)).toContain("ERR_CHAIN_BROKEN"); // the genuine s+1 now follows a second s+1
  });
  it("an entry duplicated → ERR_CHAIN_BROKEN at its seq", async () => {
    const s = at.a2Before[0]!;
    expectDetected(await verify(t.duplicateEntry(A, s)), "ERR_CHAIN_BROKEN", s);
  });
  it("two entries reordered → ERR_CHAIN_BROKEN at the first out of place", async () => {
    const s = at.a1After[0]!;
    const r = await verify(t.swapEntries(A, s, s + 1));
    expectDetected(r, "ERR_CHAIN_BROKEN", s + 1);
  });
  it("tail truncated, checkpoint kept → detected against the checkpoint (ERR_TRUNCATED / ERR_CHECKPOINT)", async () => {
    const r = await verify(t.truncateTail(A, 2, true));
    expect(r.verdict).toBe("FAILED");
    expect(codes(r)).toContain("ERR_TRUNCATED");
    const last = entries(A).length - 1;
    expect(r.errors.find((e) => e.code === "ERR_TRUNCATED")?.seq).toBe(last - 1);
  });
  it("tail truncated with the checkpoint → ERR_TRUNCATED at the first missing seq", async () => {
    const last = entries(A).length - 1;
    const r = await verify(t.truncateTail(A, 2, false));
    expectDetected(r, "ERR_TRUNCATED", last - 1);
  });
  it("only the checkpoint dropped → ERR_TRUNCATED", async () => {
    const r = await verify(t.deleteLine(A, t.kindIndex(A, "checkpoint")));
    expectDetected(r, "ERR_TRUNCATED");
  });
  it("entries spliced in from issuer B's export → ERR_WRONG_ISSUER at the seq", async () => {
    const s = 1;
    const bEntry = B[t.entryIndex(B, s)]!;
    const bCerts = B.filter((l) => JSON.parse(l).kind === "certificate" && JSON.parse(l).role === "agent");
    let lines = [...A];
    lines[t.entryIndex(lines, s)] = bEntry;
    lines = [lines[0]!, ...bCerts, ...lines.slice(1)]; // with B's (genuine, same-CA) certificates
    const r = await verify(lines);
    expectDetected(r, "ERR_WRONG_ISSUER", s);
    expect(codesAt(r, s)).toContain("ERR_CHAIN_BROKEN");
  });
  it("a valid entry of A1 relabelled as A2 (hash recomputed) → ERR_SIGNER_MISMATCH and ERR_SIG_INVALID", async () => {
    const s = at.a1Before[0]!;
    const lines = t.editEntry(A, s, (e) => {
      e.agent = ids.a2;
      const { hash: _h, sig: _s, ...body } = e;
      e.hash = sha256(jcs(body));
    });
    const r = await verify(lines);
    expectDetected(r, "ERR_SIGNER_MISMATCH", s);
    expect(codesAt(r, s)).toContain("ERR_SIG_INVALID");
    // Relabelled including the signer (A2's certificate): the signature cannot follow.
    const r2 = await verify(
      t.editEntry(A, s, (e) => {
        e.agent = ids.a2;
        e.signer = entries(A)[at.a2Before[0]!]!.signer;
        const { hash: _h, sig: _s, ...body } = e;
        e.hash = sha256(jcs(body));
      }),
    );
    expectDetected(r2, "ERR_SIG_INVALID", s);
  });
  it("the payload changed → ERR_PAYLOAD_MISMATCH at its seq (JSON and base64 payloads)", async () => {
    const ij = A.findIndex((l) => l.startsWith('{"kind":"payload"') && JSON.parse(l).seq === at.jsonPayload);
    const rj = await verify(
      t.editLine(A, ij, (v) => {
        v.json.amount = "12.51";
      }),
    );
    expectDetected(rj, "ERR_PAYLOAD_MISMATCH", at.jsonPayload);
    expect(rj.findings.find((f) => f.seq === at.jsonPayload)?.reason).toBe("PAYLOAD_MISMATCH");
    const ib = A.findIndex((l) => l.startsWith('{"kind":"payload"') && JSON.parse(l).seq === at.b64Payload);
    const rb = await verify(
      t.editLine(A, ib, (v) => {
        v.base64 = Buffer.from("pay 900 to ACME\n").toString("base64");
      }),
    );
    expectDetected(rb, "ERR_PAYLOAD_MISMATCH", at.b64Payload);
    expect(rb.errors.map((e) => e.code)).toEqual(["ERR_PAYLOAD_MISMATCH"]);
  });

  describe("an attacker's CA and certificates substituted wholesale", () => {
    let forged: string[];
    let evil: Ca;
    beforeAll(async () => {
      // Same names, same serial-to-role mapping, every entry re-signed and relinked, a fresh CRL and
      // checkpoint: internally perfect. Only the pinned trust anchor can tell.
      evil = await makeCa("Kakunin Root CA");
      const signers = new Map<string, Signer>();
      const out: string[] = [];
      let prev = ZERO_HASH;
      let header: Json | undefined;
      for (const line of A) {
        const v = JSON.parse(line) as Json;
        if (v.kind === "header") {
          header = v;
          out.push(JSON.stringify({ ...v, caCertificate: evil.pem }));
        } else if (v.kind === "certificate") {
          const orig = new X509Certificate(v.pem);
          const cn = /CN=([^\n,]+)/.exec(orig.subject)![1]!;
          const o = /O=([^\n,]+)/.exec(orig.subject)?.[1] ?? "Kakunin";
          const s = await issue(evil, v.role, { cn, o, ...(v.role === "log" ? { sanUris: [] } : {}) });
          signers.set(v.serial, s);
          out.push(JSON.stringify({ ...v, serial: s.serial, pem: s.pem }));
        } else if (v.kind === "crl") {
          out.push(
            JSON.stringify({
              ...v,
              pem: await makeCrl(evil, [{ serial: signers.get(serials.a2)!.serial, date: new Date() }], 1),
            }),
          );
        } else if (v.kind === "entry") {
          const s = signers.get(v.entry.signer.cert)!;
          const remap = (x: unknown) => (typeof x === "string" && signers.has(x) ? signers.get(x)!.serial : x);
          const details = v.entry.details
            ? Object.fromEntries(Object.entries(v.entry.details).map(([k, x]) => [k, remap(x)]))
            : undefined;
          const {
            hash: _h,
            sig: _s,
            ...body
          } = {
            ...v.entry,
            prevHash: prev,
            signer: { ...v.entry.signer, cert: s.serial },
            ...(details ? { details } : {}),
          };
          if (details && body.type !== "agent.operation") body.payloadHash = sha256(jcs(details));
          const bytes = jcs(body);
          prev = sha256(bytes);
          out.push(JSON.stringify({ kind: "entry", entry: { ...body, hash: prev, sig: await pssSign(s, bytes) } }));
        } else if (v.kind === "checkpoint") {
          const s = signers.get(v.checkpoint.signer.cert)!;
          const { sig: _s, ...body } = {
            ...v.checkpoint,
            head: prev,
            signer: { ...v.checkpoint.signer, cert: s.serial },
          };
          out.push(JSON.stringify({ kind: "checkpoint", checkpoint: { ...body, sig: await pssSign(s, jcs(body)) } }));
        } else if (v.kind === "tree-checkpoint") {
          // Log v2 notes commit to the real entries and are signed by the log key: the attacker
          // leaves them out (kept, their roots would not match the forged entries: ERR_TREE_ROOT).
          continue;
        } else out.push(line);
      }
      expect(header).toBeDefined();
      forged = out;
    }, 120_000);

    it("is internally consistent (passes when the attacker's CA is pinned)", async () => {
      const r = await verify(forged, { caFingerprint: evil.fingerprint });
      expect(r.errors).toEqual([]);
      expect(r.verdict).toBe("PASSED");
    });
    it("→ ERR_UNTRUSTED_ROOT against the pinned fingerprint, and ERR_CERT_PATH against the pinned certificate", async () => {
      const r = await verify(forged);
      expectDetected(r, "ERR_UNTRUSTED_ROOT");
      expect(r.counts.passed).toBe(0);
      const r2 = await verify(forged, { caCertificate: caPem });
      expectDetected(r2, "ERR_UNTRUSTED_ROOT");
      expect(codes(r2)).toContain("ERR_CERT_PATH");
      expect(r2.counts.passed).toBe(0);
    });
    it("the CLI exits 1 on it", () => {
      const r = cli("log", file("forged.ndjson", forged), "--ca-fingerprint", caFp, "--json", "--workers", "2");
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout).errors).toContainEqual(expect.objectContaining({ code: "ERR_UNTRUSTED_ROOT" }));
    });
  });
});

describe("kakunin-verify CLI on the real export", () => {
  it("0 untouched (by fingerprint and by certificate), with worker threads", () => {
    const p = file("a.ndjson", A);
    const r = cli("log", p, "--ca-fingerprint", caFp, "--workers", "2");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const j = cli("log", p, "--ca", file("ca.pem", caPem), "--json");
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ verdict: "PASSED", counts: { failed: 0, indeterminate: 0 } });
  });
  it("1 on a flipped signature, naming its seq", () => {
    const seq = at.withDetails;
    const r = cli(
      "log",
      file("sig.ndjson", t.flipEntryField(A, seq, "sig")),
      "--ca-fingerprint",
      caFp,
      "--json",
      "--workers",
      "2",
    );
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).findings).toContainEqual(expect.objectContaining({ seq, code: "ERR_SIG_INVALID" }));
  });
  it("1 on a deleted entry and on a truncated tail", () => {
    const s = at.a2Before[1]!;
    const del = cli("log", file("del.ndjson", deleteEntryAndPayload(A, s)), "--ca-fingerprint", caFp, "--json");
    expect(del.status).toBe(1);
    expect(JSON.parse(del.stdout).errors).toContainEqual(
      expect.objectContaining({ seq: s + 1, code: "ERR_CHAIN_BROKEN" }),
    );
    const tr = cli("log", file("trunc.ndjson", t.truncateTail(A, 1, false)), "--ca-fingerprint", caFp, "--json");
    expect(tr.status).toBe(1);
    expect(JSON.parse(tr.stdout).errors).toContainEqual(expect.objectContaining({ code: "ERR_TRUNCATED" }));
  });
  it("1 on a malformed line inside a readable export, naming file:line and field; 2 when unreadable", () => {
    const seq = at.withDetails;
    const r = cli("log", file("mal.ndjson", t.flipEntryField(A, seq, "v")), "--ca-fingerprint", caFp);
    expect(r.status).toBe(1);
    expect(cli("log", file("unreadable.ndjson", `garbage\n${A.join("\n")}`), "--ca-fingerprint", caFp).status).toBe(2);
    expect(r.stderr).toContain(`mal.ndjson:${t.entryIndex(A, seq) + 1} field entry.v`);
  });
});
