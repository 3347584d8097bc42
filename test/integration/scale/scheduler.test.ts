/**
 * Scheduled work runs once across instances: three service instances on one PostgreSQL database run
 * the maintenance job (renewals, CRL refresh) and the checkpoint job at the same moment — one runs
 * it, the others skip (lease busy, or it ran recently). PostgreSQL only.
 */
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogDb } from "../../../server/log/storage/tables.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { createTestDatabase, shouldRunPostgres } from "../../helpers/postgres.js";
import { createApp } from "../../../server/app.js";
import { startServices, type Services } from "../../../server/bootstrap.js";
import { createLogger } from "../../../server/logger.js";
import { runMaintenance } from "../../../server/jobs/certificate-maintenance.js";
import { publishDueCheckpoints } from "../../../server/jobs/publish-checkpoints.js";
import { runOnceAcrossInstances } from "../../../server/jobs/once.js";
import { TEST_OPERATOR_TOKEN, appCaller, setupIssuer, testConfig, type Call } from "../../helpers/app.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RUN = await shouldRunPostgres("scale/scheduler (scheduled work once across instances)");

describe.skipIf(!RUN)("[postgres] scheduled work across three instances", () => {
  let kms: LocalKms;
  let drop: () => Promise<void>;
  let dir: string | undefined;
  const inst: Services[] = [];
  let call: Call;

  beforeAll(async () => {
    kms = await startLocalKms();
    const t = await createTestDatabase();
    drop = t.drop;
    dir = mkdtempSync(join(tmpdir(), "kakunin-sched-"));
    const config = testConfig(dir, kms.endpoint, { DATABASE_URL: t.url, KAKUNIN_CHECKPOINT_INTERVAL_MS: "1000" });
    for (const s of await Promise.all(
      [0, 1, 2].map(() =>
        startServices(config, createLogger("silent"), {
          kms: kms.client({ maxAttempts: 1 }),
          scheduledCheckpoints: true,
        }),
      ),
    ))
      inst.push(s);
    const app = createApp(inst[0]!.deps);
    call = appCaller(app);
  }, 120_000);
  afterAll(async () => {
    for (const s of inst) await s.close();
    await kms?.stop();
    await drop?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("renewal and CRL refresh run once, not once per instance", async () => {
    const issuer = await setupIssuer(call, TEST_OPERATOR_TOKEN, 2, "Sched AG");
    const db = inst[0]!.deps.db;
    const crlsBefore = (await db.selectFrom("crls").select("number").execute()).length;
    const future = new Date(Date.now() + 350 * 86_400_000);
    const runs = await Promise.all(
      inst.map((s) =>
        runOnceAcrossInstances(s.deps.db, "scheduler:maintenance-period", 3_600_000, () =>
          runMaintenance({ ...s.deps, now: () => future }),
        ),
      ),
    );
    expect(runs.filter((r) => r.ran)).toHaveLength(1);
    expect(
      runs
        .filter((r) => !r.ran)
        .map((r) => (r as { why: string }).why)
        .every((w) => w === "lease-busy" || w === "ran-recently"),
    ).toBe(true);
    const ran = runs.find((r) => r.ran) as { value: Awaited<ReturnType<typeof runMaintenance>> };
    expect(ran.value.renewed.map((r) => r.agent).sort()).toEqual(issuer.agents.map((a) => a.id).sort());
    for (const a of issuer.agents) {
      const certs = await db.selectFrom("certificates").select("status").where("agent_id", "=", a.id).execute();
      expect(certs.map((c) => c.status).sort()).toEqual(["active", "superseded"]); // rotated exactly once
    }
    expect((await db.selectFrom("crls").select("number").execute()).length).toBe(crlsBefore + 1);
    // A second round within the period does nothing anywhere.
    const again = await Promise.all(
      inst.map((s) =>
        runOnceAcrossInstances(s.deps.db, "scheduler:maintenance-period", 3_600_000, () => runMaintenance(s.deps)),
      ),
    );
    expect(again.filter((r) => r.ran)).toHaveLength(0);
  });

  it("checkpoint publication runs once across instances", async () => {
    const issuer = await setupIssuer(call, TEST_OPERATOR_TOKEN, 1, "Checkpoint BV");
    const a = issuer.agents[0]!;
    for (let i = 0; i < 3; i++)
      expect(
        (await call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { i } } })).status,
      ).toBe(201);
    const db = inst[0]!.deps.db as unknown as Kysely<LogDb>; // the log's tables, read directly
    const n = async () =>
      (await db.selectFrom("checkpoints").select("size").where("issuer_id", "=", issuer.issuerId).execute()).length;
    expect(await n()).toBe(0); // no per-instance debounced publication in scheduled mode
    const runs = await Promise.all(
      inst.map((s) =>
        runOnceAcrossInstances(s.deps.db, "scheduler:checkpoints", 60_000, () => publishDueCheckpoints(s.deps)),
      ),
    );
    expect(runs.filter((r) => r.ran)).toHaveLength(1);
    expect(await n()).toBe(1);
  });
});
