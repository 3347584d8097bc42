/** Authorization matrix: every admin route × {none, bad, operator, issuer A, issuer B, agent of A, agent of B}. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../../helpers/postgres.js";
import { startInProcessApi, type InProcessApi } from "../../helpers/app.js";

let f: InProcessApi;
const tok: Record<string, string | undefined> = {};
let agentA = "";
let agentA2 = "";

// Runs against SQLite and, when it answers, PostgreSQL (named [postgres]; skipped loudly otherwise).
const KINDS = await databaseKinds("api/authz");

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    beforeAll(async () => {
      f = await startInProcessApi({ db: kind });
      tok.operator = f.operatorToken;
      const a = await f.call("POST", "/v1/issuers", { token: f.operatorToken, body: { name: "Issuer A" } });
      const b = await f.call("POST", "/v1/issuers", { token: f.operatorToken, body: { name: "Issuer B" } });
      tok.issuerA = a.json.token;
      tok.issuerB = b.json.token;
      agentA = (await f.call("POST", "/v1/agents", { token: tok.issuerA, body: { name: "a1" } })).json.id;
      agentA2 = (await f.call("POST", "/v1/agents", { token: tok.issuerA, body: { name: "a2" } })).json.id;
      const agentB = (await f.call("POST", "/v1/agents", { token: tok.issuerB, body: { name: "b1" } })).json.id;
      tok.agentA = (await f.call("POST", `/v1/agents/${agentA}/tokens`, { token: tok.issuerA })).json.token;
      tok.agentB = (await f.call("POST", `/v1/agents/${agentB}/tokens`, { token: tok.issuerB })).json.token;
      tok.none = undefined;
      tok.bad = "kkn_iss_not-a-real-token";
    });

    afterAll(async () => {
      await f?.close();
    });

    type Who = "none" | "bad" | "operator" | "issuerA" | "issuerB" | "agentA" | "agentB";
    const WHO: Who[] = ["none", "bad", "operator", "issuerA", "issuerB", "agentA", "agentB"];

    // Expected status per principal. Issuer B asking for issuer A's agent gets 404 (existence not revealed).
    const matrix: { name: string; method: string; path: () => string; body?: unknown; expect: Record<Who, number> }[] =
      [
        {
          name: "create issuer",
          method: "POST",
          path: () => "/v1/issuers",
          body: { name: "X" },
          expect: { none: 401, bad: 401, operator: 201, issuerA: 403, issuerB: 403, agentA: 403, agentB: 403 },
        },
        {
          name: "register agent",
          method: "POST",
          path: () => "/v1/agents",
          body: { name: "n" },
          expect: { none: 401, bad: 401, operator: 403, issuerA: 201, issuerB: 201, agentA: 403, agentB: 403 },
        },
        {
          name: "list agents",
          method: "GET",
          path: () => "/v1/agents",
          expect: { none: 401, bad: 401, operator: 403, issuerA: 200, issuerB: 200, agentA: 403, agentB: 403 },
        },
        {
          name: "get agent",
          method: "GET",
          path: () => `/v1/agents/${agentA}`,
          expect: { none: 401, bad: 401, operator: 403, issuerA: 200, issuerB: 404, agentA: 403, agentB: 403 },
        },
        {
          name: "mint agent token",
          method: "POST",
          path: () => `/v1/agents/${agentA}/tokens`,
          expect: { none: 401, bad: 401, operator: 403, issuerA: 201, issuerB: 404, agentA: 403, agentB: 403 },
        },
        {
          name: "rotate",
          method: "POST",
          path: () => `/v1/agents/${agentA}/rotate`,
          expect: { none: 401, bad: 401, operator: 403, issuerA: 200, issuerB: 404, agentA: 403, agentB: 403 },
        },
        {
          name: "resume agent tokens",
          method: "POST",
          path: () => `/v1/agents/${agentA}/tokens/resume`,
          expect: { none: 401, bad: 401, operator: 403, issuerA: 200, issuerB: 404, agentA: 403, agentB: 403 },
        },
        // revoke last (issuer A's call revokes agent A2)
        {
          name: "revoke",
          method: "POST",
          path: () => `/v1/agents/${agentA2}/revoke`,
          body: { reason: "cessationOfOperation" },
          expect: { none: 401, bad: 401, operator: 403, issuerA: 200, issuerB: 404, agentA: 403, agentB: 403 },
        },
      ];

    const publicRoutes = [
      "/healthz",
      "/v1/public/ca.pem",
      "/v1/public/crl",
      "/v1/public/crl.pem",
      "/v1/public/directory",
      "/openapi.json",
      "/docs",
    ];

    describe("authorization matrix", () => {
      for (const row of matrix) {
        it(`${row.method} ${row.name}`, async () => {
          const got: Record<string, number> = {};
          for (const who of WHO) {
            const r = await f.call(row.method, row.path(), {
              ...(tok[who] ? { token: tok[who] } : {}),
              ...(row.body ? { body: row.body } : {}),
            });
            got[who] = r.status;
            if (r.status >= 400) {
              expect(r.headers.get("content-type"), `${who}`).toBe("application/problem+json");
              const code = { 401: "ERR_UNAUTHORIZED", 403: "ERR_FORBIDDEN", 404: "ERR_AGENT_NOT_FOUND" }[
                r.status as 401 | 403 | 404
              ];
              expect(r.json.code, `${who}`).toBe(code);
              if (r.status === 401) expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
            }
          }
          expect(got).toEqual(row.expect);
        });
      }

      it("public routes need no token and are CORS-open", async () => {
        for (const p of publicRoutes) {
          const r = await f.call("GET", p, { headers: { origin: "https://portal.example" } });
          expect(r.status, p).toBe(200);
          if (p.startsWith("/v1/public") || p === "/healthz")
            expect(r.headers.get("access-control-allow-origin"), p).toBe("*");
        }
        const agentView = await f.call("GET", `/v1/public/agents/${agentA}`);
        expect(agentView.status).toBe(200);
      });

      it("issuer listings only show their own agents", async () => {
        const a = await f.call("GET", "/v1/agents", { token: tok.issuerA });
        const b = await f.call("GET", "/v1/agents", { token: tok.issuerB });
        expect(a.json.agents.every((x: any) => x.issuer.name === "Issuer A")).toBe(true);
        expect(b.json.agents.every((x: any) => x.issuer.name === "Issuer B")).toBe(true);
        expect(b.json.agents.some((x: any) => x.id === agentA)).toBe(false);
      });

      it("a revoked agent's tokens stop working", async () => {
        const t = (await f.call("POST", `/v1/agents/${agentA}/tokens`, { token: tok.issuerA })).json.token;
        await f.call("POST", `/v1/agents/${agentA}/revoke`, { token: tok.issuerA, body: { reason: "unspecified" } });
        const r = await f.call("GET", "/v1/agents", { token: t });
        expect(r.status).toBe(401);
      });
    });
  });
