/**
 * The append hot path with several instances: on PostgreSQL each batch holds the issuer's chain lock
 * (an advisory transaction lock) from reading the head to the commit, so two instances appending to
 * one issuer queue behind each other instead of losing the head compare-and-swap and re-signing the
 * batch. One contiguous chain, every signature verifies, and no batch was re-sequenced/re-signed.
 * PostgreSQL only (SQLite has one writer and no chain lock); skipped loudly without PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { shouldRunPostgres } from "../../helpers/postgres.js";
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

const runPg = await shouldRunPostgres("log/hot-path");

describe.skipIf(!runPg)("[postgres] chain lock across instances", () => {
  let kms: LocalKms;
  let fx: LogFixture;
  let second: Awaited<ReturnType<typeof startSecondInstance>> | undefined;
  let call2: Call;

  beforeAll(async () => {
    kms = await startLocalKms({ latencyMs: 5 });
    fx = await createLogFixture({ db: "postgres", existingKms: kms });
    // The second instance: same data directory (SQLite file) or same DATABASE_URL (PostgreSQL).
    second = await startSecondInstance(fx);
    call2 = second.call;
  });
  afterAll(async () => {
    await second?.close();
    await fx?.close();
    await kms?.stop();
  });

  it("two instances append to one issuer without a head conflict: nothing is re-signed", async () => {
    const issuer = await setupIssuer(fx.call, OPERATOR_TOKEN, 4);
    const logs = [fx.services.deps.log!, second!.services.deps.log!];
    const before = logs.map((l) => ({ ...l.stats }));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const a = issuer.agents[i % 4]!;
        return (i % 2 === 0 ? fx.call : call2)("POST", `/v1/agents/${a.id}/operations`, {
          token: a.token,
          body: { payload: { i } },
        });
      }),
    );
    expect(results.filter((r) => r.status !== 201).map((r) => r.text)).toEqual([]);

    const exp = parseExport((await fx.call("GET", "/v1/log/export", { token: issuer.issuerToken })).text);
    expect(exp.entries.length).toBe(4 + 200);
    expect(chainProblems(exp.entries)).toEqual([]);
    expect(opensslVerifyExport(exp)).toEqual([]);
    const byHash = new Set(exp.entries.map((e: any) => e.hash));
    for (const r of results) expect(byHash.has(r.json.entry.hash)).toBe(true);

    const delta = logs.map((l, i) => ({
      conflicts: l.stats.conflicts - before[i]!.conflicts,
      lockWaits: l.stats.chainLockWaits - before[i]!.chainLockWaits,
      committed: l.stats.committed - before[i]!.committed,
      signFailures: l.stats.signFailures - before[i]!.signFailures,
    }));
    // Every committed entry was signed once: no batch lost the compare-and-swap.
    expect(delta.map((d) => d.conflicts)).toEqual([0, 0]);
    expect(delta.map((d) => d.signFailures)).toEqual([0, 0]);
    expect(delta[0]!.committed + delta[1]!.committed).toBe(200);
    // Both instances appended (so the lock, not a lack of concurrency, kept them apart).
    expect(delta[0]!.committed).toBeGreaterThan(0);
    expect(delta[1]!.committed).toBeGreaterThan(0);
  });
});
