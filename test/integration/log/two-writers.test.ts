/**
 * Two writers (two independent service instances — own database connection(s), own AuditLog, own
 * cached head — on the same database) appending to the same issuer at once: the compare-and-swap on
 * chain_heads (plus FOR UPDATE on PostgreSQL) makes the loser re-sequence, so there is one
 * contiguous chain, never a fork. One local KMS for the file; SQLite and, when it answers,
 * PostgreSQL (named [postgres]; skipped loudly otherwise).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../server/app.js";
import { startServices, type Services } from "../../../server/bootstrap.js";
import { loadConfig } from "../../../server/config.js";
import { createLogger } from "../../../server/logger.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { OPERATOR_TOKEN, chainProblems, createLogFixture, opensslVerifyExport, parse, parseExport, setupIssuer, type Call, type LogFixture } from "./fixture.js";

let kms: LocalKms;
let fx: LogFixture;
let second: Services | undefined;
let call2: Call;

beforeAll(async () => {
  kms = await startLocalKms();
});
afterAll(async () => {
  await kms?.stop();
});

const KINDS = await databaseKinds("log/two-writers");

for (const kind of KINDS) describe(`[${kind}]`, () => {
  beforeAll(async () => {
    fx = await createLogFixture({ db: kind, existingKms: kms });
    // The second instance: same data directory (SQLite file) or same DATABASE_URL (PostgreSQL).
    const config = loadConfig({
      DATA_DIR: fx.dir, KMS_ENDPOINT: kms.endpoint, KAKUNIN_OPERATOR_TOKEN: OPERATOR_TOKEN,
      KAKUNIN_PUBLIC_URL: "http://kakunin.test", KAKUNIN_SCHEDULER_INTERVAL_MS: "0", ...fx.dbEnv,
    });
    second = await startServices(config, createLogger("silent"), { kms: kms.client({ maxAttempts: 1 }) });
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
    second = undefined;
    await fx?.close(); // drops the PostgreSQL database after both instances have let go of it
  });

  describe("two writers on one database", () => {
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
      // The writers really raced: on SQLite one lost a compare-and-swap and re-sequenced; on
      // PostgreSQL the per-issuer chain lock made one wait instead (and nothing was re-signed).
      const [a, b] = [fx.services.deps.log!.stats, second!.deps.log!.stats];
      if (kind === "postgres") {
        expect(a.chainLockWaits + b.chainLockWaits).toBeGreaterThan(0);
        expect(a.conflicts + b.conflicts).toBe(0);
      } else {
        expect(a.conflicts + b.conflicts).toBeGreaterThan(0);
      }
    });
  });
});
