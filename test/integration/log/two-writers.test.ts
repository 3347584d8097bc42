/**
 * Two writers (two independent service instances — own database connection(s), own AuditLog, own
 * cached head — on the same database) appending to the same issuer at once: the compare-and-swap on
 * chain_heads (plus FOR UPDATE on PostgreSQL) makes the loser re-sequence, so there is one
 * contiguous chain, never a fork. One local KMS for the file; SQLite and, when it answers,
 * PostgreSQL (named [postgres]; skipped loudly otherwise).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { databaseKinds } from "../../helpers/postgres.js";
import {
  OPERATOR_TOKEN,
  chainProblems,
  createLogFixture,
  opensslVerifyExport,
  parseExport,
  startSecondInstance,
  setupIssuer,
  type Call,
  type LogFixture,
} from "./fixture.js";

let kms: LocalKms;
let fx: LogFixture;
let second: Awaited<ReturnType<typeof startSecondInstance>> | undefined;
let call2: Call;

beforeAll(async () => {
  kms = await startLocalKms();
});
afterAll(async () => {
  await kms?.stop();
});

const KINDS = await databaseKinds("log/two-writers");

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    beforeAll(async () => {
      fx = await createLogFixture({ db: kind, existingKms: kms });
      // The second instance: same data directory (SQLite file) or same DATABASE_URL (PostgreSQL).
      second = await startSecondInstance(fx);
      call2 = second.call;
    });
    afterAll(async () => {
      await second?.close();
      second = undefined;
      await fx?.close(); // drops the PostgreSQL database after both instances have let go of it
    });

    describe("two writers on one database", () => {
      it("interleave into one contiguous chain", async () => {
        const issuer = await setupIssuer(fx.call, OPERATOR_TOKEN, 4);
        const results = await Promise.all(
          Array.from({ length: 200 }, (_, i) => {
            const a = issuer.agents[i % 4]!;
            const call = i % 2 === 0 ? fx.call : call2;
            return call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { i } } });
          }),
        );
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
        const [a, b] = [fx.services.deps.log!.stats, second!.services.deps.log!.stats];
        if (kind === "postgres") {
          expect(a.chainLockWaits + b.chainLockWaits).toBeGreaterThan(0);
          expect(a.conflicts + b.conflicts).toBe(0);
        } else {
          expect(a.conflicts + b.conflicts).toBeGreaterThan(0);
        }
      });
    });
  });
