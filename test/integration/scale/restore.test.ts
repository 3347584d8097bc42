/**
 * A database restored from an older backup must not silently fork a chain whose checkpoints were
 * already handed out. Real server processes, a real local KMS, SQLite and [postgres]:
 * checkpoints that leave the server are appended to the witness (KAKUNIN_WITNESS_DIR); a server
 * started on the restored database freezes that issuer (503 ERR_CHAIN_FORK_SUSPECTED, logged loudly);
 * the regulator's own check (held checkpoint vs a later export) detects it too; an explicit,
 * witnessed `--acknowledge-fork` unfreezes it.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { PG_ADMIN_URL, createTestDatabase, databaseKinds } from "../../helpers/postgres.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { httpCaller, setupIssuer } from "../../helpers/app.js";
import { parseExport } from "../../helpers/chain-checks.js";

const KINDS = await databaseKinds("scale/restore (fork detection after a database restore)");

/** What a regulator holding `held` checks against a later export: entry size-1 must hash to head. */
function consistent(held: { size: number; head: string }, exportText: string): boolean {
  const entries = parseExport(exportText).entries;
  return entries.length >= held.size && entries[held.size - 1]?.hash === held.head;
}

for (const kind of KINDS)
  describe(`[${kind}] restore from an older backup`, () => {
    let kms: LocalKms;
    let dir: string;
    let server: RunningServer | undefined;
    const drops: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      kms = await startLocalKms();
      dir = mkdtempSync(join(tmpdir(), "kakunin-restore-"));
    });
    afterAll(async () => {
      await server?.stop();
      await kms?.stop();
      for (const d of drops) await d();
    });

    it("freezes the forked issuer until an operator acknowledges it", async () => {
      const witnessDir = join(dir, "witness");
      let liveUrl: string;
      if (kind === "postgres") {
        const t = await createTestDatabase();
        drops.push(t.drop);
        liveUrl = t.url;
      } else liveUrl = join(dir, "live.db");
      const env = { DATABASE_URL: liveUrl, KAKUNIN_WITNESS_DIR: witnessDir, LOG_LEVEL: "warn" };
      server = await startServer({ kmsEndpoint: kms.endpoint, dataDir: mkdtempSync(join(dir, "a-")), env });
      const operatorToken = server.operatorToken;
      let call = httpCaller(server.url);
      const issuer = await setupIssuer(call, operatorToken, 2, "Restore GmbH");
      const other = await setupIssuer(call, operatorToken, 1, "Bystander SA");
      const op = (i: number, c = call, who = issuer) =>
        c("POST", `/v1/agents/${who.agents[0]!.id}/operations`, {
          token: who.agents[0]!.token,
          body: { payload: { i } },
        });
      for (let i = 0; i < 5; i++) expect((await op(i)).status).toBe(201);
      expect((await op(0, call, other)).status).toBe(201);

      // Nightly backup (taken while stopped, for a consistent copy).
      await server.stop();
      let backupUrl: string;
      if (kind === "postgres") {
        const name = `${new URL(liveUrl).pathname.slice(1)}_backup`;
        const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
        await admin.connect();
        await admin.query(`create database ${name} template ${new URL(liveUrl).pathname.slice(1)}`);
        await admin.end();
        const u = new URL(PG_ADMIN_URL);
        u.pathname = `/${name}`;
        backupUrl = u.toString();
        drops.push(async () => {
          const c = new pg.Client({ connectionString: PG_ADMIN_URL });
          await c.connect();
          await c.query(`drop database if exists ${name} with (force)`);
          await c.end();
        });
      } else {
        backupUrl = join(dir, "backup.db");
        copyFileSync(liveUrl, backupUrl);
        if (existsSync(`${liveUrl}-wal`)) copyFileSync(`${liveUrl}-wal`, `${backupUrl}-wal`);
      }

      // The day goes on: more entries, and a regulator receives an export (with its checkpoint).
      server = await startServer({
        kmsEndpoint: kms.endpoint,
        dataDir: mkdtempSync(join(dir, "b-")),
        operatorToken,
        env,
      });
      call = httpCaller(server.url);
      for (let i = 5; i < 12; i++) expect((await op(i)).status).toBe(201);
      const exported = await call("GET", "/v1/log/export", { token: issuer.issuerToken });
      expect(exported.status).toBe(200);
      const held = parseExport(exported.text).checkpoint;
      expect(held.size).toBe(2 + 12);
      const witnessed = readFileSync(join(witnessDir, `${issuer.issuerId}.ndjson`), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(witnessed.some((w) => w.size === held.size && w.head === held.head && w.sig === held.sig)).toBe(true);
      // A healthy restart on the same database is not a fork.
      await server.stop();
      server = await startServer({
        kmsEndpoint: kms.endpoint,
        dataDir: mkdtempSync(join(dir, "c-")),
        operatorToken,
        env,
      });
      call = httpCaller(server.url);
      expect((await op(12)).status).toBe(201);
      await server.stop();

      // Disaster: the database is restored from last night's backup.
      const restoredEnv = { ...env, DATABASE_URL: backupUrl };
      server = await startServer({
        kmsEndpoint: kms.endpoint,
        dataDir: mkdtempSync(join(dir, "d-")),
        operatorToken,
        env: restoredEnv,
      });
      call = httpCaller(server.url);
      const refused = await op(99);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("content-type")).toBe("application/problem+json");
      expect(refused.json.code).toBe("ERR_CHAIN_FORK_SUSPECTED");
      expect((await call("GET", "/v1/log/checkpoint", { token: issuer.issuerToken })).json.code).toBe(
        "ERR_CHAIN_FORK_SUSPECTED",
      );
      expect((await call("GET", `/v1/public/issuers/${issuer.issuerId}/checkpoint`)).status).toBe(503);
      // Registering an agent appends a lifecycle entry: refused too, and undone (no half-registered agent).
      const reg = await call("POST", "/v1/agents", { token: issuer.issuerToken, body: { name: "during-freeze" } });
      expect(reg.status).toBe(503);
      expect(reg.json.code).toBe("ERR_CHAIN_FORK_SUSPECTED");
      expect(
        (await call("GET", "/v1/agents", { token: issuer.issuerToken })).json.agents.map((a: any) => a.name),
      ).not.toContain("during-freeze");
      // Other issuers are unaffected (their witnessed checkpoints — if any — agree).
      expect((await op(1, call, other)).status).toBe(201);
      // The regulator's side: the checkpoint they hold is inconsistent with what the restored database exports.
      const afterRestore = await call("GET", "/v1/log/entries", { token: issuer.issuerToken });
      expect(afterRestore.json.size).toBeLessThan(held.size);
      await server.stop();
      expect(readFileSync(server.logPath, "utf8")).toMatch(/CHAIN FROZEN/);

      // The operator decides (e.g. the newer entries are unrecoverable) and acknowledges, in the witness.
      const ack = spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          "server/main.ts",
          "--acknowledge-fork",
          issuer.issuerId,
          "--reason",
          "restored from backup; entries lost",
        ],
        {
          cwd: join(import.meta.dirname, "../../.."),
          encoding: "utf8",
          timeout: 60_000,
          env: {
            ...process.env,
            ...restoredEnv,
            DATA_DIR: mkdtempSync(join(dir, "e-")),
            KMS_ENDPOINT: kms.endpoint,
            PORT: "0",
            KAKUNIN_OPERATOR_TOKEN: operatorToken,
            KAKUNIN_SCHEDULER_INTERVAL_MS: "0",
            AWS_MAX_ATTEMPTS: "1",
          },
        },
      );
      expect(ack.status, `${ack.stdout}\n${ack.stderr}`).toBe(0);
      expect(ack.stdout).toContain("Fork acknowledged");
      server = await startServer({
        kmsEndpoint: kms.endpoint,
        dataDir: mkdtempSync(join(dir, "f-")),
        operatorToken,
        env: restoredEnv,
      });
      call = httpCaller(server.url);
      const lines = readFileSync(join(witnessDir, `${issuer.issuerId}.ndjson`), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      const acks = lines.filter((l) => l.kind === "fork-acknowledged");
      expect(acks).toHaveLength(1);
      expect(acks[0]).toMatchObject({
        issuer: issuer.issuerId,
        abandoned: { size: held.size + 1 } /* the checkpoint published at shutdown */,
        reason: "restored from backup; entries lost",
      });
      const resumed = await op(100);
      expect(resumed.status).toBe(201);
      // The fork is real and visible to anyone holding the old checkpoint.
      const later = await call("GET", "/v1/log/export", { token: issuer.issuerToken });
      expect(consistent(held, later.text)).toBe(false);
      expect(consistent(held, exported.text)).toBe(true);
    }, 240_000);
  });
