/**
 * The fork guard on log v2 (server/log/fork-guard/): real server processes, the real local KMS and
 * SQLite. Every signed-note checkpoint the server publishes is archived verbatim in
 * KAKUNIN_WITNESS_DIR/tree/; a server started on a database restored from an older copy freezes the
 * issuer (503 ERR_CHAIN_FORK_SUSPECTED) and raises a critical `log.fork-suspected` alert — in
 * `GET /v1/alerts` and at the webhook — whose evidence `kakunin-verify consistency` (the real CLI) and
 * `checkSplitView` accept: first a rollback (the restored tree is smaller: not shown consistent), then
 * a restored database that went on without the archive and grew another history (two roots at one
 * size: conclusive). An acknowledgement unfreezes it.
 */
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSplitView, parseCheckpoint, parseNote, parseVerifierKey } from "../../../verifier/src/formats/index.js";
import { httpCaller, setupIssuer, type Call } from "../../helpers/app.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";

const REPO = resolve(import.meta.dirname, "../../..");
const CLI = join(REPO, "verifier/bin/kakunin-verify.js");
const WEBHOOK_SECRET = "fork-guard-webhook-secret-0123456789abcdef";

/** The two signed notes of a split-view evidence text, cut out by their marker lines' lengths. */
function evidenceNotes(text: string): string[] {
  const out: string[] = [];
  const re = /^----- checkpoint \d: size \d+, (\d+) characters -----\n/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length;
    out.push(text.slice(start, start + Number(m[1])));
  }
  return out;
}

describe("[sqlite] log v2: restore from an older database copy", () => {
  let kms: LocalKms;
  let dir: string;
  let server: RunningServer | undefined;
  let webhook: Server;
  let webhookUrl: string;
  const received: any[] = [];

  beforeAll(async () => {
    kms = await startLocalKms();
    dir = mkdtempSync(join(tmpdir(), "kakunin-restore-v2-"));
    webhook = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
    webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook`;
  });
  afterAll(async () => {
    await server?.stop();
    await kms?.stop();
    await new Promise((r) => webhook?.close(r));
  });

  it("freezes the issuer, raises a log.fork-suspected alert with split-view evidence, and resumes after an acknowledgement", async () => {
    const witnessDir = join(dir, "witness");
    const live = join(dir, "live.db");
    const backup = join(dir, "backup.db");
    const env = {
      DATABASE_URL: live,
      KAKUNIN_WITNESS_DIR: witnessDir,
      KAKUNIN_CHECKPOINT_INTERVAL_MS: "0",
      KAKUNIN_ALERT_WEBHOOK: webhookUrl,
      KAKUNIN_ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET,
      LOG_LEVEL: "info",
    };
    const start = async (e: Record<string, string>) => {
      server = await startServer({
        kmsEndpoint: kms.endpoint,
        dataDir: mkdtempSync(join(dir, "run-")),
        operatorToken,
        env: e,
      });
      return httpCaller(server.url);
    };
    let operatorToken: string | undefined;
    server = await startServer({ kmsEndpoint: kms.endpoint, dataDir: mkdtempSync(join(dir, "run-")), env });
    operatorToken = server.operatorToken;
    let call: Call = httpCaller(server.url);
    const issuer = await setupIssuer(call, operatorToken, 1, "Restore v2 GmbH");
    const agent = issuer.agents[0]!;
    const op = (i: number) =>
      call("POST", `/v1/agents/${agent.id}/operations`, { token: agent.token, body: { payload: { i } } });
    const latest = async () => {
      const r = await call("GET", `/v1/logs/${issuer.issuerId}/checkpoint`);
      return r.status === 200 ? { note: r.text, size: parseCheckpoint(parseNote(r.text).text).size } : undefined;
    };
    /** The published checkpoint once it covers the whole tree (entries committed so far). */
    const published = async (size: number) => {
      for (let t = 0; t < 200; t++) {
        const cp = await latest();
        if (cp && cp.size >= size) return cp;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no checkpoint of size ${size} was published`);
    };
    const treeSize = async () => (await call("GET", "/v1/log/entries", { token: issuer.issuerToken })).json.size;
    for (let i = 0; i < 3; i++) expect((await op(i)).status).toBe(201);
    await published(await treeSize());
    const vkeyLine = (await call("GET", "/v1/public/log-keys")).text
      .split("\n")
      .find((l) => l.startsWith(`kakunin.test/${issuer.issuerId}+`))!;
    expect(vkeyLine).toBeDefined();
    const logKey = await parseVerifierKey(vkeyLine);

    // The nightly copy, taken while stopped.
    const backupSize = await treeSize();
    await server.stop();
    copyFileSync(live, backup);
    if (existsSync(`${live}-wal`)) copyFileSync(`${live}-wal`, `${backup}-wal`);

    // The day goes on: more entries, and a regulator fetches the published checkpoint.
    call = await start(env);
    for (let i = 3; i < 8; i++) expect((await op(i)).status).toBe(201);
    const held = await published(await treeSize());
    await server.stop();
    const archived = readFileSync(join(witnessDir, "tree", `${issuer.issuerId}.ndjson`), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(archived.some((r) => r.kind === "tree-checkpoint" && r.size === held.size && r.note === held.note)).toBe(
      true,
    );
    // The healthy restart on the same database is not a fork.
    call = await start(env);
    expect((await op(8)).status).toBe(201);
    const beforeRestore = await published(await treeSize());
    expect((await call("GET", "/v1/alerts?kind=log.fork-suspected", { token: operatorToken })).json.alerts).toEqual([]);
    await server.stop();

    // Disaster 1: the database is restored from the nightly copy (a rollback).
    const restored = { ...env, DATABASE_URL: backup };
    call = await start(restored);
    const refused = await op(99);
    expect(refused.status).toBe(503);
    expect(refused.json.code).toBe("ERR_CHAIN_FORK_SUSPECTED");
    expect(refused.json.detail).toContain("log v2: the database's Merkle tree holds");
    const alerts = (await call("GET", "/v1/alerts?kind=log.fork-suspected", { token: operatorToken })).json.alerts;
    expect(alerts).toHaveLength(1);
    const rollback = alerts[0];
    expect(rollback).toMatchObject({ kind: "log.fork-suspected", severity: "critical", issuerId: issuer.issuerId });
    const t1 = rollback.evidence.tree;
    expect(t1.archived).toMatchObject({ size: beforeRestore.size, note: beforeRestore.note, from: "checkpoint" });
    expect(t1.database.size).toBe(backupSize);
    expect(t1.database.noteSource).toBe("latest");
    expect(t1).toMatchObject({ reason: "proof-missing", conclusive: false });
    // The issuer sees its own alert; the webhook got it.
    const own = (await call("GET", "/v1/alerts?kind=log.fork-suspected", { token: issuer.issuerToken })).json.alerts;
    expect(own.map((a: any) => a.id)).toEqual([rollback.id]);
    for (let t = 0; t < 100 && !received.some((a) => a.id === rollback.id); t++)
      await new Promise((r) => setTimeout(r, 100));
    expect(received.find((a) => a.id === rollback.id)?.evidence.tree.splitView).toBe(t1.splitView);
    // The evidence is what kakunin-verify consistency works with: both notes verify under the log key.
    const [n1, n2] = evidenceNotes(t1.splitView);
    expect([n1, n2]).toEqual([t1.database.note, beforeRestore.note]);
    expect(await checkSplitView(n1!, n2!, [logKey])).toMatchObject({ consistent: false, reason: "proof-missing" });
    writeFileSync(join(dir, "a.txt"), n1!);
    writeFileSync(join(dir, "b.txt"), n2!);
    const cli1 = spawnSync(
      process.execPath,
      [CLI, "consistency", join(dir, "a.txt"), join(dir, "b.txt"), "--log-key", vkeyLine],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    expect(cli1.status, cli1.stderr).toBe(1);
    expect(cli1.stdout).toContain("FAILED");
    expect(cli1.stdout).toContain(beforeRestore.note);
    await server.stop();
    const log1 = readFileSync(server.logPath, "utf8");
    expect(log1).toMatch(/CHAIN FROZEN/);
    expect(log1).toContain("kakunin split-view evidence");

    // Disaster 2: the restored database ran somewhere without the archive and grew another history.
    call = await start({ ...restored, KAKUNIN_WITNESS_DIR: join(dir, "elsewhere") });
    for (let i = 100; (await treeSize()) < beforeRestore.size + 1; i++) expect((await op(i)).status).toBe(201);
    await published(await treeSize());
    await server.stop();
    call = await start(restored);
    expect((await op(199)).status).toBe(503);
    const both = (await call("GET", "/v1/alerts?kind=log.fork-suspected", { token: operatorToken })).json.alerts;
    const split = both.find((a: any) => a.id !== rollback.id);
    expect(split).toBeDefined();
    const t2 = split.evidence.tree;
    expect(t2).toMatchObject({ reason: "different-roots", conclusive: true });
    expect(["stored", "signed"]).toContain(t2.database.noteSource);
    expect(t2.database.rootAtArchivedSize).not.toBe(t2.archived.root);
    const [m1, m2] = evidenceNotes(t2.splitView);
    expect(await checkSplitView(m1!, m2!, [logKey])).toMatchObject({ consistent: false, conclusive: true });
    writeFileSync(join(dir, "c.txt"), m1!);
    writeFileSync(join(dir, "d.txt"), m2!);
    const cli2 = spawnSync(
      process.execPath,
      [CLI, "consistency", join(dir, "c.txt"), join(dir, "d.txt"), "--log-key", vkeyLine],
      {
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    expect(cli2.status, cli2.stderr).toBe(1);
    expect(cli2.stdout).toContain(`two different roots at size ${beforeRestore.size}`);
    expect(cli2.stdout).toContain("it showed two histories");
    // Nothing was signed for the frozen tree beyond what it had.
    const frozenSize = (await latest())!.size;
    await server.stop();

    // The operator acknowledges; the issuer resumes from the database's head (tree included).
    const ack = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "server/main.ts",
        "--acknowledge-fork",
        issuer.issuerId,
        "--reason",
        "restored; history lost",
      ],
      {
        cwd: REPO,
        encoding: "utf8",
        timeout: 60_000,
        env: {
          ...process.env,
          ...restored,
          DATA_DIR: mkdtempSync(join(dir, "ack-")),
          KMS_ENDPOINT: kms.endpoint,
          PORT: "0",
          KAKUNIN_PUBLIC_URL: "http://kakunin.test",
          KAKUNIN_OPERATOR_TOKEN: operatorToken,
          KAKUNIN_SCHEDULER_INTERVAL_MS: "0",
          AWS_MAX_ATTEMPTS: "1",
        },
      },
    );
    expect(ack.status, `${ack.stdout}\n${ack.stderr}`).toBe(0);
    const treeAcks = readFileSync(join(witnessDir, "tree", `${issuer.issuerId}.ndjson`), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((r) => r.kind === "fork-acknowledged");
    expect(treeAcks).toHaveLength(1);
    expect(treeAcks[0]).toMatchObject({
      abandoned: { size: beforeRestore.size },
      resumedAt: { size: frozenSize },
      reason: "restored; history lost",
    });
    call = await start(restored);
    expect((await op(300)).status).toBe(201);
    const resumed = await published(frozenSize + 1);
    expect(resumed.size).toBe(frozenSize + 1);
  }, 300_000);
});
