/**
 * Two writers (two independent service instances — own database connection(s), own AuditLog, own
 * cached head — on the same database) appending to the same issuer at once: the compare-and-swap on
 * chain_heads (plus FOR UPDATE on PostgreSQL) makes the loser re-sequence, so there is one
 * contiguous chain, never a fork. Runs on SQLite, and on PostgreSQL when one answers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../server/app.js";
import { startServices, type Services } from "../../../server/bootstrap.js";
import { loadConfig } from "../../../server/config.js";
import { createLogger } from "../../../server/logger.js";
import { createTestDatabase, databaseKinds } from "../../helpers/postgres.js";
import { OPERATOR_TOKEN, chainProblems, createLogFixture, opensslVerifyExport, parse, parseExport, setupIssuer, type Call, type LogFixture } from "./fixture.js";

const kinds = await databaseKinds("log: two writers on one database");

describe.each(kinds)("two writers on one database (%s)", (kind) => {
let fx: LogFixture;
let second: Services;
let call2: Call;
let pgDb: Awaited<ReturnType<typeof createTestDatabase>> | undefined;

beforeAll(async () => {
  const env: Record<string, string> = {};
  if (kind === "postgres") {
    pgDb = await createTestDatabase();
    env.DATABASE_URL = pgDb.url;
  }
  fx = await createLogFixture({ env });
  const config = loadConfig({
    DATA_DIR: fx.dir, KMS_ENDPOINT: fx.kms.endpoint, KAKUNIN_OPERATOR_TOKEN: OPERATOR_TOKEN,
    KAKUNIN_PUBLIC_URL: "http://kakunin.test", KAKUNIN_SCHEDULER_INTERVAL_MS: "0", ...env,
  });
  second = await startServices(config, createLogger("silent"), { kms: fx.kms.client({ maxAttempts: 1 }) });
  const app2 = createApp(second.deps);
  call2 = async (method, path, o = {}) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    return parse(await app2.request(path, { method, headers, ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}) }));
  };
});
afterAll(async () => {
  await second?.deps.log?.close();
  await second?.close();
  await fx?.close();
  await pgDb?.drop();
});

  it("interleave into one contiguous chain", async () => {
    const issuer = await setupIssuer(fx.call, OPERATOR_TOKEN, 4);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => {
      const a = issuer.agents[i % 4]!;
      const call = i % 2 === 0 ? fx.call : call2;
      return call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { i } } });
    }));
    expect(results.filter((r) => r.status !== 201).map((r) => r.text)).toEqual([]);
    const res = await fx.call("GET", "/v1/log/export", { token: issuer.issuerToken });
    const exp = parseExport(res.text);
    expect(exp.entries.length).toBe(4 + 200);
    expect(chainProblems(exp.entries)).toEqual([]);
    expect(opensslVerifyExport(exp)).toEqual([]);
    const byHash = new Set(exp.entries.map((e: any) => e.hash));
    for (const r of results) expect(byHash.has(r.json.entry.hash)).toBe(true);
    // the writers really raced: at least one lost a compare-and-swap and re-sequenced
    expect(fx.services.deps.log!.stats.conflicts + second.deps.log!.stats.conflicts).toBeGreaterThan(0);
  });
});
