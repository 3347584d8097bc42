/**
 * The whole lifecycle through real HTTP against the real local KMS and a real database (a SQLite
 * file, and PostgreSQL when it answers):
 * issuer → agent → rotate → revoke; openssl verification of what the public endpoints serve;
 * the agent certificate's key equals KMS GetPublicKey; invariant 1 scan (DB file, server log, responses).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate, createPublicKey } from "node:crypto";
import { GetPublicKeyCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../../helpers/postgres.js";
import { testDatabase, type TestDatabase } from "../../helpers/database.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { answer, apiClient, type ApiTarget } from "../../helpers/client.js";

let kms: LocalKms;
let server: RunningServer;
const responses: string[] = [];
const issuedTokens: string[] = [];

/** fetch that keeps every response's bytes for the invariant-1 scan. */
async function recordingFetch(request: Request): Promise<Response> {
  const res = await fetch(request);
  responses.push(Buffer.from(await res.clone().arrayBuffer()).toString("latin1"));
  return res;
}
/** The server through the typed client (ordinary API steps), every response recorded. */
const api = (): ApiTarget => ({ url: server.url, fetch: recordingFetch });
const publicApi = () => apiClient(api());

/** Raw HTTP for what the typed client does not send or read: malformed bodies, DER, non-API pages. */
async function http(method: string, path: string, opts: { token?: string; body?: unknown; raw?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await recordingFetch(
    new Request(server.url + path, { method, headers, ...(body !== undefined ? { body } : {}) }),
  );
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString("utf8");
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, buf, text, json };
}

function openssl(args: string[]) {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

let database: TestDatabase;

/** What is stored: the SQLite files, or a pg_dump of the PostgreSQL database (bytea as hex). */
function storedBytes(): [string, Buffer][] {
  if (database.env.DATABASE_URL) {
    const dump = execFileSync("pg_dump", ["--data-only", "--no-owner", database.env.DATABASE_URL], {
      maxBuffer: 256 << 20,
    });
    return [["pg_dump", dump]];
  }
  const files = readdirSync(server.dataDir)
    .filter((f) => /^kakunin\.db/.test(f))
    .map((f) => join(server.dataDir, f));
  expect(files.length).toBeGreaterThan(0);
  return files.map((f) => [f, readFileSync(f)] as [string, Buffer]);
}

// Runs against SQLite and, when it answers, PostgreSQL (named [postgres]; skipped loudly otherwise).
const KINDS = await databaseKinds("api/lifecycle-http");

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    beforeAll(async () => {
      responses.length = 0;
      issuedTokens.length = 0;
      database = await testDatabase(kind);
      kms = await startLocalKms();
      server = await startServer({ kmsEndpoint: kms.endpoint, env: database.env });
    });

    afterAll(async () => {
      await server?.stop();
      await kms?.stop();
      await database?.drop();
    });

    describe("agent lifecycle over HTTP", () => {
      let issuerToken = "";
      let agentId = "";
      const serials: string[] = [];
      const agentArns: string[] = [];

      it("creates an issuer (operator) and registers an agent with its own KMS key", async () => {
        const iss = await answer(api(), server.operatorToken, (c) => c.createIssuer("Acme Robotics"));
        expect(iss.status).toBe(201);
        expect(iss.value).toMatchObject({
          id: expect.stringMatching(/^iss_/),
          name: "Acme Robotics",
          token: expect.stringMatching(/^kkn_iss_/),
        });
        issuerToken = iss.value!.token;
        issuedTokens.push(issuerToken);

        const created = await answer(api(), issuerToken, (c) => c.createAgent("invoice-bot"));
        expect(created.status).toBe(201);
        const ag = created.value!;
        expect(ag).toMatchObject({
          id: expect.stringMatching(/^agt_/),
          name: "invoice-bot",
          keyArn: expect.stringMatching(/^arn:aws:kms:eu-west-1:/),
        });
        agentId = ag.id;
        serials.push(ag.certificate.serial);
        agentArns.push(ag.keyArn);

        // The certificate's public key is exactly what KMS GetPublicKey returns.
        const pk = await kms.client().send(new GetPublicKeyCommand({ KeyId: ag.keyArn }));
        const cert = new X509Certificate(ag.certificate.pem);
        const certSpki = cert.publicKey.export({ type: "spki", format: "der" });
        expect(Buffer.from(certSpki).equals(Buffer.from(pk.PublicKey!))).toBe(true);
        expect(cert.serialNumber.toLowerCase()).toBe(ag.certificate.serial);
        expect(cert.subject).toContain(`CN=${agentId}`);
        expect(cert.subject).toContain("O=Acme Robotics");
        expect(cert.subjectAltName).toBe(`URI:spiffe://kakunin.local/agent/${agentId}`);

        const tok = await answer(api(), issuerToken, (c) => c.createAgentToken(agentId));
        expect(tok.status).toBe(201);
        expect(tok.value!.token).toMatch(/^kkn_agt_/);
        issuedTokens.push(tok.value!.token);
      });

      it("rotates: new key and certificate, old one superseded and its key disabled", async () => {
        const rotated = await answer(api(), issuerToken, (c) => c.rotateAgent(agentId));
        expect(rotated.status).toBe(200);
        const rot = rotated.value!;
        expect(rot.rotation.oldSerial).toBe(serials[0]);
        serials.push(rot.rotation.newSerial);
        agentArns.push(rot.rotation.newKeyArn);
        expect(rot.rotation.newKeyArn).not.toBe(agentArns[0]);
        const certs = rot.agent.certificates;
        expect(certs.map((c) => c.status)).toEqual(["superseded", "active"]);
        expect(certs[0]!.key.state).toBe("Disabled");
        expect(certs[0]!.key.disabledAt).toBeTruthy();
        expect(certs[0]!.supersededAt).toBeTruthy();
        expect(certs[1]!.key.state).toBe("Enabled");

        const pk = await kms.client().send(new GetPublicKeyCommand({ KeyId: rot.rotation.newKeyArn }));
        const cert = new X509Certificate(certs[1]!.pem);
        expect(
          Buffer.from(cert.publicKey.export({ type: "spki", format: "der" })).equals(Buffer.from(pk.PublicKey!)),
        ).toBe(true);
        // Real KMS semantics: the old key is disabled.
        await expect(kms.client().send(new GetPublicKeyCommand({ KeyId: agentArns[0] }))).rejects.toMatchObject({
          name: "DisabledException",
        });
      });

      it("serves CA, CRL and certificates that pass openssl verify -x509_strict -crl_check", async () => {
        const dir = server.dataDir;
        const ca = await answer(api(), undefined, (c) => c.caPem());
        expect(ca.status).toBe(200);
        expect(ca.headers.get("access-control-allow-origin")).toBe("*");
        writeFileSync(join(dir, "ca.pem"), ca.value!);
        const crlDer = await http("GET", "/v1/public/crl");
        expect(crlDer.headers.get("content-type")).toBe("application/pkix-crl");
        writeFileSync(join(dir, "crl.der"), crlDer.buf);
        const crlPem = { text: await publicApi().crlPem() };
        expect(crlPem.text).toMatch(/^-----BEGIN X509 CRL-----\n/);
        writeFileSync(join(dir, "crl.pem"), crlPem.text);
        // DER and PEM are the same CRL.
        const conv = execFileSync(
          "openssl",
          ["crl", "-inform", "DER", "-in", join(dir, "crl.der"), "-outform", "PEM"],
          { encoding: "utf8" },
        );
        expect(conv.trim()).toBe(crlPem.text.trim());
        expect(openssl(["crl", "-in", join(dir, "crl.pem"), "-CAfile", join(dir, "ca.pem"), "-noout"]).out).toContain(
          "verify OK",
        );

        for (const serial of serials) {
          const c = await answer(api(), undefined, (k) => k.publicCertificate(serial));
          expect(c.status).toBe(200);
          expect(c.value!.agent?.id).toBe(agentId);
          writeFileSync(join(dir, `${serial}.pem`), c.value!.pem);
          const v = openssl([
            "verify",
            "-x509_strict",
            "-crl_check",
            "-CAfile",
            join(dir, "ca.pem"),
            "-CRLfile",
            join(dir, "crl.pem"),
            "-purpose",
            "any",
            join(dir, `${serial}.pem`),
          ]);
          expect(v.out).toContain(": OK");
          expect(v.code).toBe(0);
        }
        const caV = openssl(["verify", "-x509_strict", "-CAfile", join(dir, "ca.pem"), join(dir, "ca.pem")]);
        expect(caV.code).toBe(0);
      });

      it("revokes: certificate revoked, key disabled, new CRL with the next cRLNumber; twice is 409", async () => {
        const crlNumberBefore = (await publicApi().directory()).crl!.number;
        // A reason outside RFC 5280's list: raw, the typed client would not send it.
        const bad = await http("POST", `/v1/agents/${agentId}/revoke`, {
          token: issuerToken,
          body: { reason: "stolen" },
        });
        expect(bad.status).toBe(400);
        expect(bad.json.code).toBe("ERR_VALIDATION");

        const revoked = await answer(api(), issuerToken, (c) => c.revokeAgent(agentId, "keyCompromise"));
        expect(revoked.status).toBe(200);
        const rev = revoked.value!;
        expect(rev.revocation).toMatchObject({
          serial: serials[1],
          reason: "keyCompromise",
          crlNumber: crlNumberBefore + 1,
        });
        expect(rev.agent.status).toBe("revoked");
        const active = rev.agent.certificates[1]!;
        expect(active).toMatchObject({ status: "revoked", revocationReason: "keyCompromise" });
        expect(active.key.state).toBe("Disabled");

        const again = await answer(api(), issuerToken, (c) => c.revokeAgent(agentId, "keyCompromise"));
        expect(again.status).toBe(409);
        expect(again.error?.code).toBe("ERR_ALREADY_REVOKED");
        expect(again.headers.get("content-type")).toBe("application/problem+json");

        const dir = server.dataDir;
        writeFileSync(join(dir, "crl2.pem"), await publicApi().crlPem());
        const text = execFileSync("openssl", ["crl", "-in", join(dir, "crl2.pem"), "-noout", "-text"], {
          encoding: "utf8",
        });
        expect(text).toContain(serials[1]!.toUpperCase());
        expect(text).toContain("Key Compromise");
        const v = openssl([
          "verify",
          "-x509_strict",
          "-crl_check",
          "-CAfile",
          join(dir, "ca.pem"),
          "-CRLfile",
          join(dir, "crl2.pem"),
          "-purpose",
          "any",
          join(dir, `${serials[1]}.pem`),
        ]);
        expect(v.code).not.toBe(0);
        expect(v.out).toContain("certificate revoked");
        // The superseded (not revoked) certificate still verifies against the new CRL.
        const v0 = openssl([
          "verify",
          "-x509_strict",
          "-crl_check",
          "-CAfile",
          join(dir, "ca.pem"),
          "-CRLfile",
          join(dir, "crl2.pem"),
          "-purpose",
          "any",
          join(dir, `${serials[0]}.pem`),
        ]);
        expect(v0.code).toBe(0);

        await expect(kms.client().send(new GetPublicKeyCommand({ KeyId: agentArns[1] }))).rejects.toMatchObject({
          name: "DisabledException",
        });
      });

      it("publishes one directory document and per-agent history", async () => {
        const directory = await answer(api(), undefined, (c) => c.directory());
        expect(directory.status).toBe(200);
        const d = directory.value!;
        expect(d.ca.fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
        const fp = execFileSync(
          "openssl",
          ["x509", "-in", join(server.dataDir, "ca.pem"), "-noout", "-fingerprint", "-sha256"],
          { encoding: "utf8" },
        );
        expect(fp.split("=")[1]!.trim().replace(/:/g, "").toLowerCase()).toBe(d.ca.fingerprintSha256);
        expect(d.logSigner.pem).toMatch(/BEGIN CERTIFICATE/);
        expect(d.issuers).toEqual([expect.objectContaining({ name: "Acme Robotics" })]);
        const agent = d.agents.find((a) => a.id === agentId);
        expect(agent?.certificates).toHaveLength(2);
        const pub = await publicApi().publicAgent(agentId);
        expect(pub.certificates.map((c) => c.status)).toEqual(["superseded", "revoked"]);
        expect((await publicApi().health()).status).toBe("ok");
        const spec = await http("GET", "/openapi.json");
        for (const p of [
          "/v1/issuers",
          "/v1/agents",
          "/v1/agents/{id}",
          "/v1/agents/{id}/rotate",
          "/v1/agents/{id}/revoke",
          "/v1/agents/{id}/tokens",
          "/v1/public/ca.pem",
          "/v1/public/crl",
          "/v1/public/crl.pem",
          "/v1/public/agents/{id}",
          "/v1/public/certificates/{serial}",
          "/v1/public/directory",
          "/healthz",
        ]) {
          expect(spec.json.paths, p).toHaveProperty([p]);
        }
        const docs = await http("GET", "/docs");
        expect(docs.status).toBe(200);
        expect(docs.text).not.toMatch(/https?:\/\/(cdn|unpkg|fonts)/);
      });

      it("serials are unique and carry at least 64 random bits", async () => {
        const d = await publicApi().directory();
        const all = [d.ca.serial, d.logSigner.serial, ...d.agents.flatMap((a) => a.certificates.map((c) => c.serial))];
        expect(new Set(all).size).toBe(all.length);
        for (const s of all) expect(BigInt(`0x${s}`) >= 2n ** 64n).toBe(true);
      });

      it("each agent certificate has its own KMS key, never shared", async () => {
        const keys = await kms.client().send(new ListKeysCommand({}));
        const arns = (keys.Keys ?? []).map((k) => k.KeyArn);
        for (const a of agentArns) expect(arns).toContain(a);
        expect(new Set(agentArns).size).toBe(agentArns.length);
      });

      it("invariant 1: no private key material and no plaintext token in the DB, logs or responses", async () => {
        // Bad input on the way (must also leave nothing behind).
        const malformed = await http("POST", "/v1/agents", { token: issuerToken, raw: "{not json" });
        expect(malformed.status).toBe(400);
        await server.stop();
        const blobs: [string, Buffer][] = [
          ...storedBytes(),
          [server.logPath, readFileSync(server.logPath)],
          ...responses.map((r, i) => [`response ${i}`, Buffer.from(r, "latin1")] as [string, Buffer]),
        ];
        // PKCS#8 RSA private key DER prefix: SEQUENCE, INTEGER 0, AlgorithmIdentifier rsaEncryption.
        const pkcs8Rsa = Buffer.from("020100300d06092a864886f70d0101010500", "hex");
        for (const [name, bytes] of blobs) {
          expect(bytes.includes("PRIVATE KEY"), name).toBe(false);
          expect(bytes.includes(pkcs8Rsa), name).toBe(false);
          expect(bytes.includes(pkcs8Rsa.toString("hex")), `${name} (hex)`).toBe(false);
          if (name.startsWith("response")) continue;
          for (const t of [...issuedTokens, server.operatorToken])
            expect(bytes.includes(t), `${name} contains a token`).toBe(false);
        }
        const log = readFileSync(server.logPath, "utf8");
        expect(log).toContain('"msg":"request"');
        // Restart reuses the same CA (and prints no operator token).
        const caBefore = readFileSync(join(server.dataDir, "ca.pem"), "utf8");
        server = await startServer({
          kmsEndpoint: kms.endpoint,
          dataDir: server.dataDir,
          operatorToken: server.operatorToken,
          env: database.env,
        });
        expect(await publicApi().caPem()).toBe(caBefore);
      });
    });
  });
