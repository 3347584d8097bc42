/**
 * The audit log through the real app (app.request) with the real local KMS process (one for the
 * file) and a real database — SQLite and, when it answers, PostgreSQL (named [postgres]; skipped
 * loudly otherwise): receipts, openssl-verified signatures, links, concurrency, rotation mid-stream,
 * bad input, payload erasure, export.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyReceipt } from "@kakunin/verifier";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { databaseKinds } from "../../helpers/postgres.js";
import {
  OPERATOR_TOKEN,
  addAgent,
  caPem,
  chainProblems,
  createLogFixture,
  jcs,
  opensslVerifyAll,
  opensslVerifyExport,
  parseExport,
  setupIssuer,
  withoutHashSig,
  type LogFixture,
} from "./fixture.js";
import { ZERO_HASH } from "../../../verifier/src/formats/hash.js";

let kms: LocalKms;
let fx: LogFixture;
let issuer: Awaited<ReturnType<typeof setupIssuer>>;

beforeAll(async () => {
  kms = await startLocalKms();
});
afterAll(async () => {
  await kms?.stop();
});

async function exportAll(token = issuer.issuerToken, query = "") {
  const res = await fx.call("GET", `/v1/log/export${query}`, { token });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/x-ndjson");
  return { exp: parseExport(res.text), text: res.text };
}

async function size(): Promise<number> {
  const cp = await fx.call("GET", "/v1/log/checkpoint", { token: issuer.issuerToken });
  expect(cp.status).toBe(200);
  return cp.json.size;
}

const KINDS = await databaseKinds("log/append");

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    beforeAll(async () => {
      fx = await createLogFixture({ db: kind, existingKms: kms });
      issuer = await setupIssuer(fx.call, OPERATOR_TOKEN, 20);
    });
    afterAll(async () => {
      await fx?.close();
    });

    describe("appending operations", () => {
      it("signs an operation with the agent's key and returns a receipt that openssl and the verifier accept", async () => {
        const a = issuer.agents[0]!;
        const payload = { action: "pay", amount: 12.5, to: "Zoë", nested: { b: 1, a: [true, null] } };
        const res = await fx.call("POST", `/v1/agents/${a.id}/operations`, {
          token: a.token,
          body: { payload, contentType: "application/json" },
        });
        expect(res.status).toBe(201);
        const r = res.json;
        expect(r.format).toBe("kakunin-receipt/1");
        expect(r.entry).toMatchObject({
          v: 1,
          type: "agent.operation",
          issuer: issuer.issuerId,
          agent: a.id,
          signer: { cert: a.serial, alg: "RSASSA_PSS_SHA_256" },
          details: { contentType: "application/json" },
        });
        expect(r.entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(r.entry.payloadHash).toBe(
          (await import("node:crypto")).createHash("sha256").update(jcs(payload)).digest("hex"),
        );
        expect(r.certificates[0]).toBe(a.pem);
        expect(r.certificates[1]).toBe(caPem(fx.services));
        expect(r.crl).toContain("-----BEGIN X509 CRL-----");
        // Independent check: openssl over the entry's RFC 8785 bytes, key from the agent certificate.
        expect(
          opensslVerifyAll([{ id: r.entry.seq, jcs: jcs(withoutHashSig(r.entry)), sig: r.entry.sig, certPem: a.pem }]),
        ).toEqual([]);
        const report = await verifyReceipt(r, { trust: { caCertificate: caPem(fx.services) } });
        expect(report.errors).toEqual([]);
        expect(report.verdict).toBe("PASSED");
      });

      it("hashes payloadBase64 over the raw bytes; the issuer's token may sign for its agent", async () => {
        const a = issuer.agents[1]!;
        const bytes = Buffer.from([0, 1, 2, 255, 254, 10]);
        const res = await fx.call("POST", `/v1/agents/${a.id}/operations`, {
          token: issuer.issuerToken,
          body: { payloadBase64: bytes.toString("base64") },
        });
        expect(res.status).toBe(201);
        expect(res.json.entry.payloadHash).toBe(
          (await import("node:crypto")).createHash("sha256").update(bytes).digest("hex"),
        );
        expect(res.json.entry.details).toBeUndefined();
      });

      it("500 concurrent operations over 20 agents form one contiguous chain whose signatures all verify with openssl", async () => {
        const before = await size();
        const results = await Promise.all(
          Array.from({ length: 500 }, (_, i) => {
            const a = issuer.agents[i % 20]!;
            return fx.call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { i } } });
          }),
        );
        expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
        const seqs = results.map((r) => r.json.entry.seq).sort((x: number, y: number) => x - y);
        expect(seqs).toEqual(Array.from({ length: 500 }, (_, i) => before + i));
        // every receipt is signed by its own agent's certificate
        results.forEach((r, i) => expect(r.json.entry.signer.cert).toBe(issuer.agents[i % 20]!.serial));

        const { exp } = await exportAll();
        expect(exp.entries.length).toBe(before + 500);
        expect(chainProblems(exp.entries)).toEqual([]);
        expect(opensslVerifyExport(exp)).toEqual([]);
        expect(exp.checkpoint).toMatchObject({ size: before + 500, head: exp.entries.at(-1).hash });
        // lifecycle entries (agent.registered) are signed by the log signer
        const registered = exp.entries.filter((e: any) => e.type === "agent.registered");
        expect(registered.length).toBe(20);
        const logCert = exp.certificates.find((c: any) => c.role === "log");
        expect(registered.every((e: any) => e.signer.cert === logCert.serial)).toBe(true);
      });
    });

    describe("rotation in the middle of a stream", () => {
      it("entries before key.rotated are signed by the old key, after it by the new one", async () => {
        const a = await addAgent(fx.call, issuer.issuerToken, "rotating-bot");
        const send = (k: number) =>
          fx.call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { k } } });
        let stop = false;
        const statuses: number[] = [];
        const stream = (async () => {
          let k = 0;
          while (!stop) {
            const batch = await Promise.all(Array.from({ length: 8 }, () => send(k++)));
            statuses.push(...batch.map((b) => b.status));
          }
        })();
        await new Promise((r) => setTimeout(r, 300));
        const rot = await fx.call("POST", `/v1/agents/${a.id}/rotate`, { token: issuer.issuerToken });
        expect(rot.status).toBe(200);
        await new Promise((r) => setTimeout(r, 300));
        stop = true;
        await stream;
        expect(statuses.every((s) => s === 201)).toBe(true);

        const { exp } = await exportAll();
        expect(chainProblems(exp.entries)).toEqual([]);
        expect(opensslVerifyExport(exp)).toEqual([]);
        const mine = exp.entries.filter((e: any) => e.agent === a.id);
        const rotated = mine.find((e: any) => e.type === "key.rotated");
        expect(rotated).toBeDefined();
        const { oldCert, newCert } = rotated.details;
        expect(oldCert).toBe(a.serial);
        const ops = mine.filter((e: any) => e.type === "agent.operation");
        const before = ops.filter((e: any) => e.seq < rotated.seq);
        const after = ops.filter((e: any) => e.seq > rotated.seq);
        expect(before.length).toBeGreaterThan(0);
        expect(after.length).toBeGreaterThan(0);
        expect(after.every((e: any) => e.signer.cert === newCert)).toBe(true);
        // The old certificate's key is never used after key.rotated; before it, only old or (mid-rotation) new.
        expect(ops.filter((e: any) => e.signer.cert === oldCert).every((e: any) => e.seq < rotated.seq)).toBe(true);
        expect(before.some((e: any) => e.signer.cert === oldCert)).toBe(true);
        // The export carries both certificates with their states.
        const oldLine = exp.certificates.find((c: any) => c.serial === oldCert);
        expect(oldLine).toMatchObject({ status: "superseded", keyState: "Disabled" });
        expect(exp.certificates.find((c: any) => c.serial === newCert)).toMatchObject({
          status: "active",
          keyState: "Enabled",
        });
        const report = await verifyExport(
          exp.lines.map((l: unknown) => JSON.stringify(l)),
          { trust: { caCertificate: caPem(fx.services) } },
        );
        expect(report.errors).toEqual([]);
        expect(report.verdict).toBe("PASSED");
      });

      it("a revoked agent (no active certificate) gets 409 and nothing is written", async () => {
        const a = await addAgent(fx.call, issuer.issuerToken, "doomed-bot");
        const crlBefore = (await fx.call("GET", "/v1/public/crl.pem")).text;
        for (let i = 0; i < 3; i++) {
          const op = await fx.call("POST", `/v1/agents/${a.id}/operations`, {
            token: a.token,
            body: { payload: { before: i } },
          });
          expect(op.status).toBe(201);
          expect(op.json.crl).toBe(crlBefore);
        }
        const rev = await fx.call("POST", `/v1/agents/${a.id}/revoke`, {
          token: issuer.issuerToken,
          body: { reason: "keyCompromise" },
        });
        expect(rev.status).toBe(200);
        // Receipts carry the CRL published by the revocation (which lists it), not the one before.
        const crlAfter = (await fx.call("GET", "/v1/public/crl.pem")).text;
        expect(crlAfter).not.toBe(crlBefore);
        const other = issuer.agents[1]!;
        const later = await fx.call("POST", `/v1/agents/${other.id}/operations`, {
          token: other.token,
          body: { payload: { after: true } },
        });
        expect(later.status).toBe(201);
        expect(later.json.crl).toBe(crlAfter);
        const n = await size();
        const res = await fx.call("POST", `/v1/agents/${a.id}/operations`, {
          token: issuer.issuerToken,
          body: { payload: 1 },
        });
        expect(res.status).toBe(409);
        expect(res.headers.get("content-type")).toContain("application/problem+json");
        expect(res.json.code).toBe("ERR_NO_ACTIVE_CERTIFICATE");
        expect(await size()).toBe(n);
        // Entries signed before the revocation (lower seq than certificate.revoked) still verify.
        const { exp, text } = await exportAll();
        const revoked = exp.entries.find((e: any) => e.type === "certificate.revoked" && e.agent === a.id);
        expect(revoked.details).toMatchObject({ cert: a.serial, reason: "keyCompromise" });
        expect(exp.certificates.find((c: any) => c.serial === a.serial)).toMatchObject({
          status: "revoked",
          keyState: "Disabled",
          revocationReason: "keyCompromise",
        });
        const report = await verifyExport(text.split("\n").filter(Boolean), {
          trust: { caCertificate: caPem(fx.services) },
        });
        expect(report.errors).toEqual([]);
        expect(report.verdict).toBe("PASSED");
      });
    });

    describe("bad input writes nothing", () => {
      it("rejects malformed payloads, oversized bodies, wrong tokens with problem+json", async () => {
        const [a, b] = [issuer.agents[2]!, issuer.agents[3]!];
        const n = await size();
        const url = `/v1/agents/${a.id}/operations`;
        const cases: [string, Parameters<typeof fx.call>[2], number][] = [
          ["invalid JSON", { token: a.token, raw: '{"payload": ' }, 400],
          ["no payload", { token: a.token, body: {} }, 400],
          ["both payloads", { token: a.token, body: { payload: 1, payloadBase64: "AA==" } }, 400],
          ["bad base64", { token: a.token, body: { payloadBase64: "!!not base64" } }, 400],
          ["unknown field", { token: a.token, body: { payload: 1, extra: true } }, 400],
          ["bad contentType", { token: a.token, body: { payload: 1, contentType: "a\u0000b" } }, 400],
          ["oversized", { token: a.token, raw: JSON.stringify({ payload: "x".repeat(1_100_000) }) }, 413],
          ["another agent's token", { token: b.token, body: { payload: 1 } }, 403],
          ["no token", { body: { payload: 1 } }, 401],
          ["unknown token", { token: "kkn_agt_nope", body: { payload: 1 } }, 401],
        ];
        for (const [name, opts, status] of cases) {
          const res = await fx.call("POST", url, opts);
          expect(res.status, name).toBe(status);
          expect(res.headers.get("content-type"), name).toContain("application/problem+json");
          expect(res.json.status, name).toBe(status);
          expect(typeof res.json.code, name).toBe("string");
        }
        // another issuer's token → 404 (the agent is not theirs)
        const other = await setupIssuer(fx.call, OPERATOR_TOKEN, 0, "Other Corp");
        const res = await fx.call("POST", url, { token: other.issuerToken, body: { payload: 1 } });
        expect(res.status).toBe(404);
        expect(res.headers.get("content-type")).toContain("application/problem+json");
        // agent tokens may not read the issuer's log
        expect((await fx.call("GET", "/v1/log/entries", { token: a.token })).status).toBe(403);
        expect(await size()).toBe(n);
      });
    });

    describe("reading, checkpoints, export and erasure", () => {
      it("pages entries and serves a public checkpoint signed by the log key", async () => {
        const page = await fx.call("GET", "/v1/log/entries?from=0&limit=10", { token: issuer.issuerToken });
        expect(page.status).toBe(200);
        expect(page.json.entries.map((e: any) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i));
        expect(page.json.next).toBe(10);
        const cp = await fx.call("GET", "/v1/log/checkpoint", { token: issuer.issuerToken });
        expect(cp.json.size).toBe(page.json.size);
        const pub = await fx.call("GET", `/v1/public/issuers/${issuer.issuerId}/checkpoint`);
        expect(pub.status).toBe(200);
        expect(pub.json).toMatchObject({
          issuer: issuer.issuerId,
          signer: { cert: fx.services.deps.logSigner.certSerial },
        });
        const { sig, ...rest } = pub.json;
        expect(
          opensslVerifyAll([{ id: "cp", jcs: jcs(rest), sig, certPem: fx.services.deps.logSigner.certificatePem }]),
        ).toEqual([]);
        expect(
          (await fx.call("GET", "/v1/public/issuers/iss_00000000000000000000000000000000/checkpoint")).status,
        ).toBe(404);
      });

      it("erasing a payload leaves the chain and the export verifying", async () => {
        const a = issuer.agents[4]!;
        const res = await fx.call("POST", `/v1/agents/${a.id}/operations`, {
          token: a.token,
          body: { payload: { name: "Jane Doe", email: "jane@example.com" } },
        });
        expect(res.status).toBe(201);
        const seq = res.json.entry.seq;
        let { exp } = await exportAll(issuer.issuerToken, "?payloads=true");
        expect(exp.payloads.find((p: any) => p.seq === seq)?.json).toEqual({
          name: "Jane Doe",
          email: "jane@example.com",
        });

        const del = await fx.call("DELETE", `/v1/log/entries/${seq}/payload`, { token: issuer.issuerToken });
        expect(del.status).toBe(204);
        expect((await fx.call("DELETE", `/v1/log/entries/999999/payload`, { token: issuer.issuerToken })).status).toBe(
          404,
        );

        const after = await exportAll(issuer.issuerToken, "?payloads=true");
        exp = after.exp;
        expect(after.text).not.toContain("jane@example.com");
        expect(exp.payloads.find((p: any) => p.seq === seq)).toBeUndefined();
        expect(exp.entries.find((e: any) => e.seq === seq)).toEqual(res.json.entry);
        expect(chainProblems(exp.entries)).toEqual([]);
        expect(opensslVerifyExport(exp)).toEqual([]);
        const report = await verifyExport(after.text.split("\n").filter(Boolean), {
          trust: { caCertificate: caPem(fx.services) },
        });
        expect(report.errors).toEqual([]);
        expect(report.verdict).toBe("PASSED");
        expect(report.counts.entries).toBe(exp.entries.length);
      });

      it("exports a sub-range with its prevHash and a checkpoint covering exactly its last entry", async () => {
        const { exp, text } = await exportAll(issuer.issuerToken, "?from=5&to=17");
        expect(exp.header).toMatchObject({ format: "kakunin-log/1", range: { from: 5, to: 17 }, payloads: false });
        expect(exp.entries.map((e: any) => e.seq)).toEqual(Array.from({ length: 13 }, (_, i) => 5 + i));
        expect(chainProblems(exp.entries, 5, exp.header.prevHash)).toEqual([]);
        expect(exp.checkpoint).toMatchObject({ size: 18, head: exp.entries.at(-1).hash });
        expect(opensslVerifyExport(exp)).toEqual([]);
        const report = await verifyExport(text.split("\n").filter(Boolean), {
          trust: { caCertificate: caPem(fx.services) },
        });
        expect(report.errors).toEqual([]);
        expect(report.verdict).toBe("PASSED");
        expect((await fx.call("GET", "/v1/log/export?from=100000", { token: issuer.issuerToken })).status).toBe(400);
      });

      it("an issuer with an empty chain exports an empty range with a size-0 checkpoint", async () => {
        const other = await setupIssuer(fx.call, OPERATOR_TOKEN, 0, "Empty Corp");
        const res = await fx.call("GET", "/v1/log/export", { token: other.issuerToken });
        const exp = parseExport(res.text);
        expect(exp.header.range).toEqual({ from: 0, to: -1 });
        expect(exp.entries).toEqual([]);
        expect(exp.checkpoint).toMatchObject({ size: 0, head: ZERO_HASH });
      });

      it("lists the log routes in /openapi.json", async () => {
        const doc = await fx.call("GET", "/openapi.json");
        for (const p of [
          "/v1/agents/{id}/operations",
          "/v1/log/entries",
          "/v1/log/checkpoint",
          "/v1/log/export",
          "/v1/log/entries/{seq}/payload",
          "/v1/public/issuers/{id}/checkpoint",
        ]) {
          expect(doc.json.paths[p], p).toBeDefined();
        }
      });
    });

    describe("overload", () => {
      it("a full per-issuer queue fails fast with ERR_OVERLOADED (503 + Retry-After) and the chain stays whole", async () => {
        const { AuditLog } = await import("../../../server/log/audit-log.js");
        const d = fx.services.deps;
        const small = new AuditLog({
          db: d.db,
          dialect: d.dialect,
          custody: d.custody,
          caCertificatePem: d.ca.certificatePem,
          logSigner: d.logSigner,
          maxQueue: 4,
          checkpointDebounceMs: 0,
        });
        const a = issuer.agents[5]!;
        const settled = await Promise.allSettled(
          Array.from({ length: 40 }, (_, i) => small.appendOperation(issuer.issuerId, a.id, { json: { i } })),
        );
        const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
        expect(rejected.length).toBeGreaterThan(0);
        for (const r of rejected)
          expect(r.reason).toMatchObject({ status: 503, code: "ERR_OVERLOADED", retryAfter: 1 });
        expect(settled.some((s) => s.status === "fulfilled")).toBe(true);
        await small.close();
        const { exp } = await exportAll();
        expect(chainProblems(exp.entries)).toEqual([]);
      });
    });
  });
