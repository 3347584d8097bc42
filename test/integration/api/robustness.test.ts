/**
 * Resumable rotation (a crash at every step, including between CreateKey and storing the ARN),
 * no partial writes on failed registration, bad input, KMS throttling → 503, bootstrap race, renewal.
 */
import { DescribeKeyCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../../helpers/postgres.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startInProcessApi, testConfig, type InProcessApi } from "../../helpers/app.js";
import { testDatabase } from "../../helpers/database.js";
import { createApp } from "../../../server/app.js";
import { createDb } from "../../../server/db/connect.js";
import { migrate } from "../../../server/db/migrations/index.js";
import { bootstrap } from "../../../server/bootstrap.js";
import { createLogger } from "../../../server/logger.js";
import { KeyCustody } from "../../../server/kms/custody.js";
import { KmsUnavailableError } from "../../../server/errors.js";
import { rotateAgent } from "../../../server/authority/rotate-agent.js";
import { SimulatedCrash } from "../../../server/authority/simulated-crash.js";
import { runMaintenance } from "../../../server/jobs/certificate-maintenance.js";
import type { AppDeps } from "../../../server/deps.js";
import type { RotationStep } from "../../../server/db/schema.js";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

let f: InProcessApi;
let issuerId = "";
let issuerToken = "";

// Runs against SQLite and, when it answers, PostgreSQL (named [postgres]; skipped loudly otherwise).
const KINDS = await databaseKinds("api/robustness");

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    beforeAll(async () => {
      f = await startInProcessApi({ db: kind });
      const iss = await f.call("POST", "/v1/issuers", { token: f.operatorToken, body: { name: "Robust Ltd" } });
      issuerId = iss.json.id;
      issuerToken = iss.json.token;
    });
    afterAll(async () => {
      await f?.close();
    });

    async function kmsKeys(kms: LocalKms): Promise<string[]> {
      const out: string[] = [];
      let marker: string | undefined;
      do {
        const r = await kms.client().send(new ListKeysCommand({ ...(marker ? { Marker: marker } : {}) }));
        out.push(...(r.Keys ?? []).map((k) => k.KeyArn!));
        marker = r.Truncated ? r.NextMarker : undefined;
      } while (marker);
      return out;
    }
    async function kmsEnabled(kms: LocalKms, arn: string): Promise<boolean> {
      return (await kms.client().send(new DescribeKeyCommand({ KeyId: arn }))).KeyMetadata!.Enabled!;
    }
    async function register(name: string): Promise<string> {
      const r = await f.call("POST", "/v1/agents", { token: issuerToken, body: { name } });
      expect(r.status).toBe(201);
      return r.json.id;
    }
    async function assertOneActive(agentId: string) {
      const db = f.services.deps.db;
      const active = await db
        .selectFrom("certificates")
        .select(["serial", "key_arn"])
        .where("agent_id", "=", agentId)
        .where("status", "=", "active")
        .execute();
      expect(active).toHaveLength(1);
      expect(await kmsEnabled(f.kms, active[0]!.key_arn)).toBe(true);
      return active[0]!;
    }
    async function counts() {
      const db = f.services.deps.db;
      const n = async (t: "agents" | "issuers" | "keys" | "certificates" | "tokens" | "rotations") =>
        Number((await db.selectFrom(t).select(db.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
      return {
        agents: await n("agents"),
        issuers: await n("issuers"),
        keys: await n("keys"),
        certificates: await n("certificates"),
        tokens: await n("tokens"),
        rotations: await n("rotations"),
        kms: (await kmsKeys(f.kms)).length,
      };
    }

    describe("resumable rotation", () => {
      const steps: RotationStep[] = ["started", "key_created", "old_superseded", "old_key_disabled"];
      for (const step of steps) {
        it(`a crash after "${step}" leaves one active cert+key; the retry finishes without a second new key`, async () => {
          const agentId = await register(`crash-${step}`);
          const first = await assertOneActive(agentId);
          const kmsBefore = (await kmsKeys(f.kms)).length;
          await expect(rotateAgent(f.services.deps, issuerId, agentId, { stopAfter: step })).rejects.toBeInstanceOf(
            SimulatedCrash,
          );
          await assertOneActive(agentId);
          const retry = await f.call("POST", `/v1/agents/${agentId}/rotate`, { token: issuerToken });
          expect(retry.status).toBe(200);
          expect(retry.json.rotation.resumed).toBe(true);
          expect(retry.json.rotation.oldSerial).toBe(first.serial);
          const now = await assertOneActive(agentId);
          expect(now.serial).not.toBe(first.serial);
          expect((await kmsKeys(f.kms)).length).toBe(kmsBefore + 1);
          expect(await kmsEnabled(f.kms, first.key_arn)).toBe(false);
          expect(retry.json.agent.certificates.map((c: any) => c.status)).toEqual(["superseded", "active"]);
        });
      }

      it("a crash between CreateKey and storing the ARN: the retry finds the key by its rotation tag", async () => {
        const agentId = await register("crash-createkey");
        const first = await assertOneActive(agentId);
        const kmsBefore = await kmsKeys(f.kms);
        const real = f.services.deps.custody;
        let created = "";
        const crashing = Object.create(real) as KeyCustody;
        crashing.createSigningKey = async (o) => {
          const r = await real.createSigningKey(o);
          created = r.arn;
          throw new Error("process crashed after CreateKey");
        };
        await expect(rotateAgent({ ...f.services.deps, custody: crashing }, issuerId, agentId)).rejects.toThrow(
          /crashed/,
        );
        expect(created).toMatch(/^arn:aws:kms:/);
        await assertOneActive(agentId);
        const retry = await f.call("POST", `/v1/agents/${agentId}/rotate`, { token: issuerToken });
        expect(retry.status).toBe(200);
        expect(retry.json.rotation.newKeyArn).toBe(created);
        const after = await kmsKeys(f.kms);
        expect(after.length).toBe(kmsBefore.length + 1);
        const now = await assertOneActive(agentId);
        expect(now.key_arn).toBe(created);
        expect(await kmsEnabled(f.kms, first.key_arn)).toBe(false);
      });
    });

    describe("no partial writes", () => {
      it("certificate issuance failing after CreateKey disables the new key and writes nothing", async () => {
        const before = await counts();
        const beforeKeys = new Set(await kmsKeys(f.kms));
        const ca = Object.create(f.services.deps.ca);
        ca.issueAgentCertificate = async () => {
          throw new KmsUnavailableError("KMS throttled while signing", 2);
        };
        const app = createApp({ ...f.services.deps, ca });
        const res = await app.request("/v1/agents", {
          method: "POST",
          headers: { authorization: `Bearer ${issuerToken}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "doomed" }),
        });
        expect(res.status).toBe(503);
        expect(res.headers.get("retry-after")).toBe("2");
        expect((await res.json()).code).toBe("ERR_KMS_UNAVAILABLE");
        const after = await counts();
        expect({ ...after, kms: 0 }).toEqual({ ...before, kms: 0 });
        const fresh = (await kmsKeys(f.kms)).filter((k) => !beforeKeys.has(k));
        expect(fresh).toHaveLength(1);
        expect(await kmsEnabled(f.kms, fresh[0]!)).toBe(false);
      });

      it("bad input is a typed problem+json 4xx and changes nothing", async () => {
        const before = await counts();
        const agentId = await register("for-bad-input");
        const mid = await counts();
        const cases: {
          method: string;
          path: string;
          raw?: string;
          body?: unknown;
          headers?: Record<string, string>;
          status: number;
          code: string;
        }[] = [
          { method: "POST", path: "/v1/agents", raw: '{"name": ', status: 400, code: "ERR_MALFORMED_JSON" },
          { method: "POST", path: "/v1/agents", body: {}, status: 400, code: "ERR_VALIDATION" },
          { method: "POST", path: "/v1/agents", body: { name: "" }, status: 422, code: "ERR_INVALID_NAME" },
          { method: "POST", path: "/v1/agents", body: { name: 42 }, status: 400, code: "ERR_VALIDATION" },
          { method: "POST", path: "/v1/agents", body: { name: "x", extra: true }, status: 400, code: "ERR_VALIDATION" },
          { method: "POST", path: "/v1/agents", body: [1, 2], status: 400, code: "ERR_VALIDATION" },
          {
            method: "POST",
            path: "/v1/agents",
            raw: "name=x",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            status: 415,
            code: "ERR_UNSUPPORTED_MEDIA_TYPE",
          },
          {
            method: "POST",
            path: "/v1/agents",
            body: { name: "x".repeat(2 * 1024 * 1024) },
            status: 413,
            code: "ERR_PAYLOAD_TOO_LARGE",
          },
          {
            method: "POST",
            path: `/v1/agents/${agentId}/revoke`,
            body: { reason: "becauseISaidSo" },
            status: 400,
            code: "ERR_VALIDATION",
          },
          { method: "POST", path: `/v1/agents/${agentId}/revoke`, body: {}, status: 400, code: "ERR_VALIDATION" },
          {
            method: "POST",
            path: `/v1/agents/${agentId}/revoke`,
            raw: "nope",
            status: 400,
            code: "ERR_MALFORMED_JSON",
          },
          { method: "POST", path: "/v1/agents/not-an-id/rotate", status: 400, code: "ERR_VALIDATION" },
          {
            method: "GET",
            path: "/v1/agents/agt_00000000000000000000000000000000",
            status: 404,
            code: "ERR_AGENT_NOT_FOUND",
          },
          { method: "GET", path: "/v1/agents?expiring=soon", status: 400, code: "ERR_VALIDATION" },
          { method: "GET", path: "/v1/public/certificates/XYZ", status: 400, code: "ERR_VALIDATION" },
          { method: "GET", path: "/v1/public/certificates/abcdef", status: 404, code: "ERR_CERTIFICATE_NOT_FOUND" },
          { method: "GET", path: "/v1/nothing-here", status: 404, code: "ERR_NOT_FOUND" },
        ];
        for (const c of cases) {
          const r = await f.call(c.method, c.path, {
            token: issuerToken,
            ...(c.raw !== undefined ? { raw: c.raw } : {}),
            ...(c.body !== undefined ? { body: c.body } : {}),
            ...(c.headers ? { headers: c.headers } : {}),
          });
          expect([c.path, r.status, r.json?.code]).toEqual([c.path, c.status, c.code]);
          expect(r.headers.get("content-type")).toBe("application/problem+json");
          expect(r.json).toMatchObject({
            type: expect.stringMatching(/^https:\/\/kakunin\.dev\/problems\//),
            title: expect.any(String),
            status: c.status,
            detail: expect.any(String),
          });
        }
        const badIssuer = await f.call("POST", "/v1/issuers", { token: f.operatorToken, body: { name: "a\u0000b" } });
        expect([badIssuer.status, badIssuer.json.code, badIssuer.json.field]).toEqual([
          422,
          "ERR_INVALID_NAME",
          "name",
        ]);
        expect(await counts()).toEqual(mid);
        expect(mid.agents).toBe(before.agents + 1);
      });
    });

    describe("KMS throttling", () => {
      it("maps ThrottlingException to 503 ERR_KMS_UNAVAILABLE with Retry-After, writing nothing", async () => {
        const throttled = await startLocalKms({ throttleRate: 1 });
        try {
          const custody = new KeyCustody(throttled.client({ maxAttempts: 1 }), {
            region: "eu-west-1",
            allowedRegions: ["eu-west-1"],
          });
          const before = await counts();
          const app = createApp({ ...f.services.deps, custody });
          const res = await app.request("/v1/agents", {
            method: "POST",
            headers: { authorization: `Bearer ${issuerToken}`, "content-type": "application/json" },
            body: JSON.stringify({ name: "throttled" }),
          });
          expect(res.status).toBe(503);
          expect(res.headers.get("content-type")).toBe("application/problem+json");
          expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
          expect((await res.json()).code).toBe("ERR_KMS_UNAVAILABLE");
          expect(await counts()).toEqual(before);
        } finally {
          await throttled.stop();
        }
      });
    });

    describe("bootstrap race", () => {
      it("two bootstraps at once on one database create one CA", async () => {
        const kms = await startLocalKms();
        const dir = await mkdtemp(join(tmpdir(), "kakunin-race-"));
        const database = await testDatabase(kind);
        try {
          const config = testConfig(dir, kms.endpoint, database.env);
          const a = await createDb(config.databaseUrl);
          const b = await createDb(config.databaseUrl);
          // Both migrate at once too (PostgreSQL: under the advisory lock).
          await Promise.all([migrate(a), migrate(b)]);
          const logger = createLogger("silent");
          const mk = (d: typeof a) =>
            bootstrap({
              config,
              db: d.db,
              dialect: d.dialect,
              custody: new KeyCustody(kms.client(), { region: "eu-west-1", allowedRegions: ["eu-west-1"] }),
              logger,
            });
          const [ra, rb] = await Promise.all([mk(a), mk(b)]);
          expect(ra.deps.ca.fingerprintSha256).toBe(rb.deps.ca.fingerprintSha256);
          expect(ra.deps.logSigner.certSerial).toBe(rb.deps.logSigner.certSerial);
          const caCerts = await a.db.selectFrom("certificates").select("serial").where("role", "=", "ca").execute();
          expect(caCerts).toHaveLength(1);
          expect(await kmsKeys(kms)).toHaveLength(3); // CA key + log key + checkpoint (Ed25519) key, nothing more
          expect(ra.deps.checkpointKey).toEqual(rb.deps.checkpointKey);
          const crls = await a.db.selectFrom("crls").select("number").execute();
          expect(crls).toHaveLength(1);
          // A restart reuses everything.
          const again = await mk(a);
          expect(again.deps.ca.fingerprintSha256).toBe(ra.deps.ca.fingerprintSha256);
          expect(await kmsKeys(kms)).toHaveLength(3);
          await a.close();
          await b.close();
        } finally {
          await kms.stop();
          await database.drop();
          await rm(dir, { recursive: true, force: true });
        }
      });
    });

    describe("renewal", () => {
      it("lists expiring agents and the scheduled job rotates them and refreshes the CRL", async () => {
        const agentId = await register("renew-me");
        const first = await assertOneActive(agentId);
        const none = await f.call("GET", "/v1/agents?expiring=30d", { token: issuerToken });
        expect(none.json.agents.some((a: any) => a.id === agentId)).toBe(false);
        const soon = await f.call("GET", "/v1/agents?expiring=400d", { token: issuerToken });
        expect(soon.json.agents.some((a: any) => a.id === agentId)).toBe(true);

        const future = new Date(Date.now() + 350 * 86_400_000);
        const deps: AppDeps = { ...f.services.deps, now: () => future };
        const report = await runMaintenance(deps);
        expect(report.skipped).toBeUndefined();
        expect(report.renewed.map((r) => r.agent)).toContain(agentId);
        expect(report.crlPublished).not.toBeNull();
        const now = await assertOneActive(agentId);
        expect(now.serial).not.toBe(first.serial);
        expect(await kmsEnabled(f.kms, first.key_arn)).toBe(false);
      });
    });
  });
