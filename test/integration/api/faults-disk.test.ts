/**
 * Issue 19, item 10: the database's disk fills up. The SQLite database of a real server process
 * lives on a small tmpfs mounted for the test; a filler file takes the rest of the space, so
 * SQLite gets a real SQLITE_FULL. Appends and registrations answer 507 ERR_STORAGE_FULL (stable
 * code, Retry-After, nothing written), the log names the real error (not "cannot rollback"), and
 * once space is freed the same process works again — no restart.
 * Needs root (mount); skipped by name otherwise.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { answer, apiClient, setupIssuer, type TestIssuer } from "../../helpers/client.js";

const mnt = mkdtempSync(join(tmpdir(), "kakunin-full-"));
const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt]).status === 0;
if (!mounted) rmSync(mnt, { recursive: true, force: true });

let kms: LocalKms;
let srv: RunningServer;
let issuer: TestIssuer;
let agent: { id: string };
const filler = join(mnt, "filler");
const size = async () => (await issuer.client.logEntries()).size;

/** Fill the filesystem: write 64 KiB blocks until ENOSPC. */
function fill() {
  const block = Buffer.alloc(64 * 1024, 1);
  let data = Buffer.alloc(0);
  try {
    for (;;) {
      data = Buffer.concat([data, block]);
      writeFileSync(filler, data);
    }
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOSPC") throw e;
  }
}

describe.skipIf(!mounted)("disk full (SQLite on a full tmpfs)", () => {
  beforeAll(async () => {
    kms = await startLocalKms();
    mkdirSync(join(mnt, "db"));
    srv = await startServer({
      kmsEndpoint: kms.endpoint,
      env: { DATABASE_URL: join(mnt, "db", "kakunin.db"), KAKUNIN_CHECKPOINT_INTERVAL_MS: "0" },
    });
    issuer = await setupIssuer(srv, srv.operatorToken, 1, "Full Disk GmbH", "bot");
    agent = issuer.agents[0]!;
  }, 120_000);

  afterAll(async () => {
    await srv?.stop();
    await kms?.stop();
    spawnSync("umount", [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it("answers 507 ERR_STORAGE_FULL, logs the real error, writes nothing, and recovers without a restart", async () => {
    const big = "x".repeat(200_000);
    expect((await answer(srv, issuer.token, (c) => c.sign(agent.id, { payload: { big } }))).status).toBe(201);
    const before = await size();
    fill();

    const refused = [];
    for (let i = 0; i < 5; i++)
      refused.push(await answer(srv, issuer.token, (c) => c.sign(agent.id, { payload: { big, i } })));
    const full = refused.filter((r) => r.status !== 201);
    expect(full.length).toBeGreaterThan(0);
    for (const r of full) {
      expect(r.status).toBe(507);
      expect(r.error?.code).toBe("ERR_STORAGE_FULL");
      expect(r.headers.get("content-type")).toMatch(/problem\+json/);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    const reg = await answer(srv, issuer.token, (c) => c.createAgent("x".repeat(60)));
    if (reg.status !== 201) {
      expect(reg.status).toBe(507);
      expect(reg.error?.code).toBe("ERR_STORAGE_FULL");
    }
    // Nothing half-written: the chain holds exactly the acknowledged appends.
    const mid = await size();
    expect(mid).toBe(before + (refused.length - full.length) + (reg.status === 201 ? 1 : 0));

    rmSync(filler);
    expect((await answer(srv, issuer.token, (c) => c.sign(agent.id, { payload: { after: true } }))).status).toBe(201);
    expect((await answer(srv, issuer.token, (c) => c.createAgent("after"))).status).toBe(201);
    expect((await answer(srv, issuer.token, (c) => c.checkpoint())).status).toBe(200);

    await srv.stop();
    const log = readFileSync(srv.logPath, "utf8");
    expect(log).toMatch(/SQLITE_FULL|database or disk is full/);
    expect(log).not.toMatch(/cannot rollback/);
    // The server restarts on the same database and its chain is intact.
    srv = await startServer({
      kmsEndpoint: kms.endpoint,
      dataDir: srv.dataDir,
      operatorToken: srv.operatorToken,
      env: { DATABASE_URL: join(mnt, "db", "kakunin.db") },
    });
    expect(
      await apiClient(srv, issuer.token)
        .logEntries()
        .then((l) => l.size),
    ).toBe(mid + 2);
  }, 120_000);
});
