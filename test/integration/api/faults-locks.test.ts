/**
 * Issue 19, items 5 and 6, against real server processes over real HTTP:
 *  5. rotate requests sent while the maintenance tick runs: exactly one key.rotated per request —
 *     the tick resumes only rotations nobody is running, and then that same rotation;
 *  6. a server killed with SIGKILL while it holds a lease (mid-bootstrap on its first start, or
 *     mid-rotation holding the agent lock) blocks nobody: the next start / the next rotation takes
 *     the lease over at once (same host: its pid is gone) and logs it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { answer, setupIssuer, streamText } from "../../helpers/client.js";

const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
let kms: LocalKms;
const dirs: string[] = [];
const servers: RunningServer[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
function leaseRow(dataDir: string, name: string): { owner: string } | undefined {
  try {
    const db = new Database(join(dataDir, "kakunin.db"), { readonly: true, fileMustExist: true });
    try {
      return db.prepare("select owner from leases where name = ?").get(name) as { owner: string } | undefined;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  kms = await startLocalKms();
}, 60_000);
afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  await kms?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("maintenance tick vs rotate requests (item 5)", () => {
  it("exactly one key.rotated per rotate request, each for the rotation that request returned", async () => {
    const srv = await startServer({ kmsEndpoint: kms.endpoint, env: { KAKUNIN_SCHEDULER_INTERVAL_MS: "200" } });
    servers.push(srv);
    const iss = await setupIssuer(srv, srv.operatorToken, 6, "Rotating Co", "bot");
    const agents = iss.agents.map((a) => a.id);
    const targets = [...agents, agents[0]!, agents[1]!, agents[2]!];
    const results = await Promise.all(targets.map((a) => answer(srv, iss.token, (c) => c.rotateAgent(a))));
    for (const r of results) expect(r.status, r.error?.message).toBe(200);
    await sleep(1_500); // several more ticks over the finished rotations
    const exp = (await streamText(await iss.client.exportLog()))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const rotated = exp.filter((l) => l.kind === "entry" && l.entry.type === "key.rotated").map((l) => l.entry);
    expect(rotated).toHaveLength(targets.length);
    const returned = results.map((r) => r.value!.rotation.newSerial).sort();
    expect(rotated.map((e) => e.details.newCert).sort()).toEqual(returned);
    // The key and certificate each agent was last given are still its active ones.
    const certs = exp.filter((l) => l.kind === "certificate" && l.role === "agent" && l.status === "active");
    for (const a of agents) {
      const active = certs.find((c) => c.agent === a);
      expect(returned).toContain(active.serial);
    }
  }, 120_000);
});

describe("leases of a killed process (item 6)", () => {
  it("a first start killed mid-bootstrap does not block the next start", async () => {
    const dataDir = tmp("kakunin-kill-boot-");
    const env = {
      ...process.env,
      DATA_DIR: dataDir,
      KMS_ENDPOINT: kms.endpoint,
      HOST: "127.0.0.1",
      PORT: "0",
      KAKUNIN_SCHEDULER_INTERVAL_MS: "0",
      KAKUNIN_OPERATOR_TOKEN: "kkn_op_kill-test-token-0123456789abcdef0123",
      AWS_MAX_ATTEMPTS: "1",
    };
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "server", "main.ts")], {
      cwd: REPO_ROOT,
      env,
      stdio: "ignore",
    });
    const exited = new Promise((r) => child.once("exit", r));
    let held: { owner: string } | undefined;
    for (let i = 0; i < 600 && !held; i++) {
      held = leaseRow(dataDir, "bootstrap");
      if (!held) await sleep(20);
    }
    expect(held, "the first start never took the bootstrap lease").toBeDefined();
    child.kill("SIGKILL");
    await exited;
    expect(leaseRow(dataDir, "bootstrap")?.owner).toBe(held!.owner); // left behind by the dead process
    const started = performance.now();
    const srv = await startServer({ kmsEndpoint: kms.endpoint, dataDir, operatorToken: env.KAKUNIN_OPERATOR_TOKEN });
    servers.push(srv);
    console.info(
      `[faults-locks] restart after kill -9 mid-bootstrap: listening after ${Math.round(performance.now() - started)} ms`,
    );
    expect((await answer(srv, srv.operatorToken, (c) => c.createIssuer("After the crash"))).status).toBe(201);
    await srv.stop();
    expect(readFileSync(srv.logPath, "utf8")).toMatch(/lease taken over from a dead process/);
  }, 120_000);

  it("a server killed mid-rotation does not leave the agent locked", async () => {
    const dataDir = tmp("kakunin-kill-rot-");
    const first = await startServer({ kmsEndpoint: kms.endpoint, dataDir });
    const iss = await setupIssuer(first, first.operatorToken, 1, "Crashing Co", "bot");
    const agent = iss.agents[0]!;
    const pending = iss.client.rotateAgent(agent.id).catch(() => undefined); // the server dies under it
    let held: { owner: string } | undefined;
    for (let i = 0; i < 500 && !held; i++) {
      held = leaseRow(dataDir, `agent:${agent.id}`);
      if (!held) await sleep(10);
    }
    expect(held).toBeDefined();
    await first.kill();
    await pending;
    const second = await startServer({ kmsEndpoint: kms.endpoint, dataDir, operatorToken: first.operatorToken });
    servers.push(second);
    const r = await answer(second, iss.token, (c) => c.rotateAgent(agent.id));
    expect(r.status, r.error?.message).toBe(200); // not 409 ERR_OPERATION_IN_PROGRESS for the lease's lifetime
    await second.stop();
    expect(readFileSync(second.logPath, "utf8")).toMatch(/lease taken over from a dead process/);
  }, 120_000);
});
