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

const mnt = mkdtempSync(join(tmpdir(), "kakunin-full-"));
const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt]).status === 0;
if (!mounted) rmSync(mnt, { recursive: true, force: true });

let kms: LocalKms;
let srv: RunningServer;
let issuer: { id: string; token: string };
let agent: { id: string };
const filler = join(mnt, "filler");

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(srv.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json };
}

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
    srv = await startServer({ kmsEndpoint: kms.endpoint, env: { DATABASE_URL: join(mnt, "db", "kakunin.db"), KAKUNIN_CHECKPOINT_INTERVAL_MS: "0" } });
    const iss = await call("POST", "/v1/issuers", srv.operatorToken, { name: "Full Disk GmbH" });
    issuer = { id: iss.json.id, token: iss.json.token };
    agent = (await call("POST", "/v1/agents", issuer.token, { name: "bot" })).json;
  }, 120_000);

  afterAll(async () => {
    await srv?.stop();
    await kms?.stop();
    spawnSync("umount", [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });

  it("answers 507 ERR_STORAGE_FULL, logs the real error, writes nothing, and recovers without a restart", async () => {
    const big = "x".repeat(200_000);
    expect((await call("POST", `/v1/agents/${agent.id}/operations`, issuer.token, { payload: { big } })).status).toBe(201);
    const before = (await call("GET", "/v1/log/entries", issuer.token)).json.size as number;
    fill();

    const refused = [];
    for (let i = 0; i < 5; i++) refused.push(await call("POST", `/v1/agents/${agent.id}/operations`, issuer.token, { payload: { big, i } }));
    const full = refused.filter((r) => r.status !== 201);
    expect(full.length).toBeGreaterThan(0);
    for (const r of full) {
      expect(r.status).toBe(507);
      expect(r.json.code).toBe("ERR_STORAGE_FULL");
      expect(r.headers.get("content-type")).toMatch(/problem\+json/);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    const reg = await call("POST", "/v1/agents", issuer.token, { name: "x".repeat(60) });
    if (reg.status !== 201) {
      expect(reg.status).toBe(507);
      expect(reg.json.code).toBe("ERR_STORAGE_FULL");
    }
    // Nothing half-written: the chain holds exactly the acknowledged appends.
    const mid = (await call("GET", "/v1/log/entries", issuer.token)).json;
    expect(mid.size).toBe(before + (refused.length - full.length) + (reg.status === 201 ? 1 : 0));

    rmSync(filler);
    const again = await call("POST", `/v1/agents/${agent.id}/operations`, issuer.token, { payload: { after: true } });
    expect(again.status).toBe(201);
    expect((await call("POST", "/v1/agents", issuer.token, { name: "after" })).status).toBe(201);
    const exp = await call("GET", "/v1/log/checkpoint", issuer.token);
    expect(exp.status).toBe(200);

    await srv.stop();
    const log = readFileSync(srv.logPath, "utf8");
    expect(log).toMatch(/SQLITE_FULL|database or disk is full/);
    expect(log).not.toMatch(/cannot rollback/);
    // The server restarts on the same database and its chain is intact.
    srv = await startServer({ kmsEndpoint: kms.endpoint, dataDir: srv.dataDir, operatorToken: srv.operatorToken, env: { DATABASE_URL: join(mnt, "db", "kakunin.db") } });
    const size = (await call("GET", "/v1/log/entries", issuer.token)).json.size;
    expect(size).toBe(mid.size + 2);
  }, 120_000);
});
