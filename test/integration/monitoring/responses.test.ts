/**
 * Responses per issuer (issue 18) with real parts: the local KMS process (its CloudTrail files),
 * a SQLite database, the real start-up and app, through app.request().
 *
 * - `GET/PUT /v1/issuers/{id}/responses`: defaults, who may, and the 400/422 refusals.
 * - The signing-rate limit: beyond the burst 429 ERR_RATE_LIMITED with Retry-After, nothing
 *   appended and no KMS Sign made; after waiting what Retry-After says, a signature again.
 * - Suspension: a KMS Sign made outside Kakunin on an agent's key is reported by reconciliation as
 *   a critical unlogged-signature alert; the agent's tokens are then refused with 403
 *   ERR_TOKEN_SUSPENDED naming that alert, until the issuer resumes them. An issuer with the
 *   setting off keeps its agent's tokens.
 */
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKakuninClient, KakuninApiError } from "@kakunin/client";
import { callFetch, startInProcessApi, startSecondInstance, type InProcessApi } from "../../helpers/app.js";
import { signOutsideKakunin, startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { databaseKinds } from "../../helpers/postgres.js";

let kms: LocalKms;
/** Reconciliation over the local KMS's CloudTrail folder; the grace (60 s) divided by 240. */
const monitoringEnv = () => ({
  KAKUNIN_CLOUDTRAIL: `dir:${kms.dataDir}/cloudtrail`,
  KAKUNIN_MONITOR_TIME_SCALE: "240",
});
let f: InProcessApi;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ok(method: string, path: string, token: string, body?: unknown) {
  const r = await f.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}
async function newIssuer(name: string) {
  const iss = await ok("POST", "/v1/issuers", f.operatorToken, { name });
  return { id: iss.id as string, token: iss.token as string };
}
async function newAgent(issuerToken: string, name: string) {
  const a = await ok("POST", "/v1/agents", issuerToken, { name });
  const token = (await ok("POST", `/v1/agents/${a.id}/tokens`, issuerToken)).token as string;
  return { id: a.id as string, keyArn: a.keyArn as string, token };
}
const sign = (agentId: string, token: string, n: number) =>
  f.call("POST", `/v1/agents/${agentId}/operations`, { token, body: { payload: { n } } });
/** The issuer's export without its header (which carries the export's own time). */
const exportLines = async (issuerToken: string) =>
  (await f.call("GET", "/v1/log/export", { token: issuerToken })).text
    .split("\n")
    .filter((l) => l.length > 0 && JSON.parse(l).kind !== "header");
/** KMS Sign calls made with `keyArn`, from the local KMS's own access log. */
async function kmsSigns(keyArn: string): Promise<number> {
  await sleep(200); // the access log is a write stream: let it flush
  const lines = (await readFile(kms.accessLogPath, "utf8")).split("\n").filter((l) => l.length > 0);
  return lines
    .map((l) => JSON.parse(l) as { eventName: string; requestParameters?: { keyId?: string } })
    .filter((e) => e.eventName === "Sign" && e.requestParameters?.keyId === keyArn).length;
}

beforeAll(async () => {
  kms = await startLocalKms();
}, 60_000);

afterAll(async () => {
  await kms?.stop();
});

// Runs against SQLite and, when it answers, PostgreSQL (named [postgres]; skipped loudly otherwise).
const KINDS = await databaseKinds("monitoring/responses");

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    beforeAll(async () => {
      f = await startInProcessApi({
        db: kind,
        kms,
        // Reconciliation over the local KMS's CloudTrail folder; the grace (60 s) divided by 240.
        env: { KAKUNIN_CLOUDTRAIL: `dir:${kms.dataDir}/cloudtrail`, KAKUNIN_MONITOR_TIME_SCALE: "240" },
      });
    }, 120_000);

    afterAll(async () => {
      await f?.close();
    });

    describe("GET/PUT /v1/issuers/{id}/responses", () => {
      it("defaults to off and no limit; the issuer and the operator set it; others get 404 or 403", async () => {
        const a = await newIssuer("Settings A");
        const b = await newIssuer("Settings B");
        const agent = await newAgent(a.token, "settings-bot");
        const path = `/v1/issuers/${a.id}/responses`;
        expect(await ok("GET", path, a.token)).toEqual({ suspendTokensOnCritical: false, signingRateLimit: null });

        const settings = { suspendTokensOnCritical: true, signingRateLimit: { perMinute: 120, burst: 20 } };
        expect(await ok("PUT", path, a.token, settings)).toEqual(settings);
        expect(await ok("GET", path, f.operatorToken)).toEqual(settings);
        const byOperator = { suspendTokensOnCritical: false, signingRateLimit: { perMinute: 60_000, burst: 1 } };
        expect(await ok("PUT", path, f.operatorToken, byOperator)).toEqual(byOperator);
        expect(await ok("GET", path, a.token)).toEqual(byOperator);
        expect(await ok("PUT", path, a.token, { suspendTokensOnCritical: false, signingRateLimit: null })).toEqual({
          suspendTokensOnCritical: false,
          signingRateLimit: null,
        });

        // Another issuer's settings are like an unknown issuer's: 404; an agent token may not ask.
        for (const [token, status, code] of [
          [b.token, 404, "ERR_ISSUER_NOT_FOUND"],
          [agent.token, 403, "ERR_FORBIDDEN"],
        ] as const) {
          for (const r of [
            await f.call("GET", path, { token }),
            await f.call("PUT", path, { token, body: settings }),
          ]) {
            expect(r.status).toBe(status);
            expect(r.json.code).toBe(code);
          }
        }
        const unknown = await f.call("GET", `/v1/issuers/iss_${"0".repeat(32)}/responses`, { token: f.operatorToken });
        expect([unknown.status, unknown.json.code]).toEqual([404, "ERR_ISSUER_NOT_FOUND"]);
        expect((await f.call("GET", path)).status).toBe(401);
        // b's own settings are untouched by all of the above.
        expect(await ok("GET", `/v1/issuers/${b.id}/responses`, b.token)).toEqual({
          suspendTokensOnCritical: false,
          signingRateLimit: null,
        });
      });

      it("refuses out-of-range limits with 422 ERR_INVALID_RATE_LIMIT naming the member, malformed bodies with 400", async () => {
        const a = await newIssuer("Settings C");
        const path = `/v1/issuers/${a.id}/responses`;
        const put = (body: unknown) => f.call("PUT", path, { token: a.token, body });
        const limit = (perMinute: unknown, burst: unknown) => ({
          suspendTokensOnCritical: true,
          signingRateLimit: { perMinute, burst },
        });
        const cases: [unknown, number, string, string][] = [
          [limit(0, 5), 422, "ERR_INVALID_RATE_LIMIT", "signingRateLimit.perMinute"],
          [limit(60_001, 5), 422, "ERR_INVALID_RATE_LIMIT", "signingRateLimit.perMinute"],
          [limit(1.5, 5), 422, "ERR_INVALID_RATE_LIMIT", "signingRateLimit.perMinute"],
          [limit(10, 0), 422, "ERR_INVALID_RATE_LIMIT", "signingRateLimit.burst"],
          [limit(10, 10_001), 422, "ERR_INVALID_RATE_LIMIT", "signingRateLimit.burst"],
          [limit(10, -1), 422, "ERR_INVALID_RATE_LIMIT", "signingRateLimit.burst"],
          [limit("10", 5), 400, "ERR_VALIDATION", "signingRateLimit.perMinute"],
          [
            { suspendTokensOnCritical: true, signingRateLimit: { perMinute: 10 } },
            400,
            "ERR_VALIDATION",
            "signingRateLimit.burst",
          ],
          [{ signingRateLimit: null }, 400, "ERR_VALIDATION", "suspendTokensOnCritical"],
          [
            { suspendTokensOnCritical: "yes", signingRateLimit: null },
            400,
            "ERR_VALIDATION",
            "suspendTokensOnCritical",
          ],
          [{ suspendTokensOnCritical: true }, 400, "ERR_VALIDATION", "signingRateLimit"],
        ];
        for (const [body, status, code, field] of cases) {
          const r = await put(body);
          expect([r.status, r.json.code, r.json.field], JSON.stringify(body)).toEqual([status, code, field]);
          expect(r.headers.get("content-type")).toBe("application/problem+json");
        }
        const extra = await put({ suspendTokensOnCritical: true, signingRateLimit: null, mode: "strict" });
        expect([extra.status, extra.json.code]).toEqual([400, "ERR_VALIDATION"]);
        // Nothing was stored by any refusal.
        expect(await ok("GET", path, a.token)).toEqual({ suspendTokensOnCritical: false, signingRateLimit: null });
      });
    });

    describe("signing-rate limit", () => {
      it("beyond the burst: 429 ERR_RATE_LIMITED with Retry-After, nothing appended, no KMS Sign; then success after waiting", async () => {
        const iss = await newIssuer("Rate Limited Ltd");
        const agent = await newAgent(iss.token, "busy-bot");
        const other = await newAgent(iss.token, "other-bot");
        // 30 a minute = one every 2 s (slow enough that a loaded machine does not refill in between), 2 at once.
        await ok("PUT", `/v1/issuers/${iss.id}/responses`, iss.token, {
          suspendTokensOnCritical: false,
          signingRateLimit: { perMinute: 30, burst: 2 },
        });
        expect((await sign(agent.id, agent.token, 1)).status).toBe(201);
        expect((await sign(agent.id, agent.token, 2)).status).toBe(201);
        const linesBefore = await exportLines(iss.token);
        const signsBefore = await kmsSigns(agent.keyArn);
        expect(signsBefore).toBe(2);

        const refused = await sign(agent.id, agent.token, 3);
        expect(refused.status).toBe(429);
        expect(refused.headers.get("content-type")).toBe("application/problem+json");
        expect(refused.json).toMatchObject({ code: "ERR_RATE_LIMITED", status: 429, title: "Too Many Requests" });
        const retryAfter = refused.headers.get("retry-after")!;
        expect(retryAfter).toMatch(/^[1-9][0-9]*$/);
        expect(Number(retryAfter)).toBe(2);
        // The issuer's own token signs for the agent from the same bucket.
        expect((await sign(agent.id, iss.token, 4)).status).toBe(429);
        // Nothing appended and no KMS Sign for the refused requests.
        expect(await exportLines(iss.token)).toEqual(linesBefore);
        expect(await kmsSigns(agent.keyArn)).toBe(signsBefore);
        // The limit is per agent: the other agent still has its burst.
        expect((await sign(other.id, other.token, 1)).status).toBe(201);

        await sleep(Number(retryAfter) * 1000);
        const again = await sign(agent.id, agent.token, 5);
        expect(again.status).toBe(201);
        // Exactly two more entries since the refusals: the other agent's and this one.
        const entries = (lines: string[]) => lines.filter((l) => JSON.parse(l).kind === "entry").length;
        expect(entries(await exportLines(iss.token))).toBe(entries(linesBefore) + 2);
        expect(await kmsSigns(agent.keyArn)).toBe(signsBefore + 1);

        // Lifting the limit applies at once on this instance.
        await ok("PUT", `/v1/issuers/${iss.id}/responses`, iss.token, {
          suspendTokensOnCritical: false,
          signingRateLimit: null,
        });
        const burst = await Promise.all([6, 7, 8, 9].map((n) => sign(agent.id, agent.token, n)));
        expect(burst.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      });
    });

    describe("the typed client against the limit", () => {
      it("waits what Retry-After asks and then signs; without retries it raises ERR_RATE_LIMITED with retryAfter", async () => {
        const iss = await newIssuer("Client Retries Ltd");
        const agent = await newAgent(iss.token, "patient-bot");
        await ok("PUT", `/v1/issuers/${iss.id}/responses`, iss.token, {
          suspendTokensOnCritical: false,
          signingRateLimit: { perMinute: 30, burst: 1 },
        });
        const waits: { status: number; delayMs: number }[] = [];
        const client = (retries: number) =>
          createKakuninClient({
            baseUrl: "http://kakunin.test",
            token: agent.token,
            fetch: callFetch(f.call) as typeof fetch,
            retry: { retries, onRetry: ({ status, delayMs }) => waits.push({ status, delayMs }) },
          });
        await client(0).sign(agent.id, { payload: { n: 1 } });
        const err = await client(0)
          .sign(agent.id, { payload: { n: 2 } })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(KakuninApiError);
        expect(err).toMatchObject({ code: "ERR_RATE_LIMITED", status: 429, retryAfter: 2 });
        const started = Date.now();
        const receipt = await client(3).sign(agent.id, { payload: { n: 3 } });
        expect(receipt.entry.agent).toBe(agent.id);
        expect(waits).toEqual([{ status: 429, delayMs: 2000 }]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
      });
    });

    describe("token suspension on a critical alert", () => {
      it("an unlogged signature suspends the agent's tokens (setting on), not another issuer's (off); resume lifts it", async () => {
        const on = await newIssuer("Suspends Ltd");
        const off = await newIssuer("Keeps Tokens Ltd");
        await ok("PUT", `/v1/issuers/${on.id}/responses`, on.token, {
          suspendTokensOnCritical: true,
          signingRateLimit: null,
        });
        const victim = await newAgent(on.token, "victim-bot");
        const second = (await ok("POST", `/v1/agents/${victim.id}/tokens`, on.token)).token as string;
        const bystander = await newAgent(on.token, "bystander-bot");
        const kept = await newAgent(off.token, "kept-bot");
        expect((await sign(victim.id, victim.token, 1)).status).toBe(201);

        // Both agents' keys sign once outside Kakunin, straight through the AWS SDK.
        const direct: Record<string, string> = {};
        for (const a of [victim, kept]) direct[a.id] = await signOutsideKakunin(kms, a.keyArn);

        // Reconcile until both are reported (the KMS writes its CloudTrail file every 2 s).
        const found = new Map<string, any>();
        const deadline = Date.now() + 60_000;
        while (found.size < 2 && Date.now() < deadline) {
          await sleep(1_000);
          const report = await ok("POST", "/v1/admin/reconcile", f.operatorToken);
          for (const a of report.alerts) if (a.kind === "unlogged-signature") found.set(a.agentId, a);
        }
        const alert = found.get(victim.id);
        expect(alert).toMatchObject({
          severity: "critical",
          issuerId: on.id,
          evidence: { requestId: direct[victim.id] },
        });
        expect(found.get(kept.id)).toMatchObject({ severity: "critical", issuerId: off.id });

        // When reconcile answered, both of the victim's tokens were already refused, naming the alert.
        for (const token of [victim.token, second]) {
          const r = await sign(victim.id, token, 2);
          expect(r.status).toBe(403);
          expect(r.headers.get("content-type")).toBe("application/problem+json");
          expect(r.json.code).toBe("ERR_TOKEN_SUSPENDED");
          expect(r.json.detail).toContain(alert.id);
        }
        // The stored alert says what was done (token ids, never values).
        const stored = (await ok("GET", `/v1/alerts?agent=${victim.id}&kind=unlogged-signature`, on.token)).alerts;
        expect(stored.map((a: any) => a.id)).toEqual([alert.id]);
        expect(stored[0].evidence.response).toMatchObject({ action: "tokens-suspended", tokensSuspended: 2 });
        expect(stored[0].evidence.response.tokenIds).toHaveLength(2);
        expect(JSON.stringify(stored)).not.toContain(victim.token);
        // Setting off: the other issuer's agent keeps signing, its alert carries no response.
        expect((await sign(kept.id, kept.token, 1)).status).toBe(201);
        const keptAlert = (await ok("GET", `/v1/alerts?agent=${kept.id}&kind=unlogged-signature`, off.token)).alerts;
        expect(keptAlert[0].evidence.response).toBeUndefined();
        // Only the alert's agent: another agent of the same issuer is untouched; the issuer's token still works.
        expect((await sign(bystander.id, bystander.token, 1)).status).toBe(201);
        expect((await sign(victim.id, on.token, 3)).status).toBe(201);
        // Suspended, not deleted: the tokens still exist; a token minted now is live.
        const fresh = (await ok("POST", `/v1/agents/${victim.id}/tokens`, on.token)).token as string;
        expect((await sign(victim.id, fresh, 4)).status).toBe(201);

        // Only the agent's issuer resumes; then both tokens work again.
        expect((await f.call("POST", `/v1/agents/${victim.id}/tokens/resume`, { token: off.token })).status).toBe(404);
        expect((await f.call("POST", `/v1/agents/${victim.id}/tokens/resume`, { token: victim.token })).status).toBe(
          403,
        );
        const resumed = await ok("POST", `/v1/agents/${victim.id}/tokens/resume`, on.token);
        expect(resumed).toMatchObject({ agent: victim.id, resumed: 2, alerts: [alert.id] });
        expect(resumed.tokenIds.sort()).toEqual([...stored[0].evidence.response.tokenIds].sort());
        for (const [i, token] of [victim.token, second].entries())
          expect((await sign(victim.id, token, 10 + i)).status).toBe(201);
        expect(await ok("POST", `/v1/agents/${victim.id}/tokens/resume`, on.token)).toMatchObject({ resumed: 0 });

        // A restart (here: a second instance on the same database, its reconciler reading the last day
        // of CloudTrail afresh) raises the same finding again: it does not suspend the resumed tokens.
        const restarted = await startSecondInstance(f, monitoringEnv());
        try {
          const again = await restarted.call("POST", "/v1/admin/reconcile", { token: f.operatorToken });
          expect(again.status).toBe(200);
          expect(again.json.alerts.map((a: any) => a.id)).toContain(alert.id);
        } finally {
          await restarted.close();
        }
        expect((await sign(victim.id, victim.token, 20)).status).toBe(201);
        const once = (await ok("GET", `/v1/alerts?agent=${victim.id}&kind=unlogged-signature`, on.token)).alerts;
        expect(once.map((a: any) => a.evidence.response.tokensSuspended)).toEqual([2]);
      }, 120_000);
    });
  });
