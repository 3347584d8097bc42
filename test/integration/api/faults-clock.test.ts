/**
 * Issue 19, item 4: clock jumps. The server's clock (not the host's) is moved through
 * KAKUNIN_CLOCK_OFFSET_FILE in a real server process, over real HTTP:
 *  - +400 days for 3 appends: refused with 503 ERR_CLOCK_SKEW (the server's clock disagrees with
 *    the database's), nothing is stamped in the future; back to normal: appends resume by
 *    themselves, and the whole export verifies with kakunin-verify;
 *  - behind the CA's notBefore: agent creation says ERR_CA_NOT_YET_VALID, not ERR_CA_EXPIRED.
 */
import { spawnSync } from "node:child_process";
import { X509Certificate, createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { answer, apiClient, apiError, setupIssuer, streamText, type TestIssuer } from "../../helpers/client.js";

const BIN = resolve(__dirname, "../../../verifier/bin/kakunin-verify.js");
const DAY = 86_400_000;
let kms: LocalKms;
let srv: RunningServer;
let dir: string;
let offsetFile: string;
let issuer: TestIssuer;
let agent: { id: string };

const append = (n: number) => answer(srv, issuer.token, (c) => c.sign(agent.id, { payload: { n } }));
/** Move the server's clock; it re-reads the file every 100 ms. */
async function setOffset(ms: number) {
  writeFileSync(offsetFile, String(ms));
  await new Promise((r) => setTimeout(r, 400));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kakunin-clock-"));
  offsetFile = join(dir, "clock-offset-ms");
  writeFileSync(offsetFile, "0");
  kms = await startLocalKms();
  srv = await startServer({ kmsEndpoint: kms.endpoint, env: { KAKUNIN_CLOCK_OFFSET_FILE: offsetFile } });
  issuer = await setupIssuer(srv, srv.operatorToken, 1, "Time Travel AG", "bot");
  agent = issuer.agents[0]!;
  for (let i = 0; i < 3; i++) expect((await append(i)).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  await kms?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("server clock jumps", () => {
  it("+400 days for 3 appends, then back: the appends are refused, later entries are stamped now, the export verifies", async () => {
    await setOffset(400 * DAY);
    for (let i = 0; i < 3; i++) {
      const r = await append(100 + i);
      expect(r.status, r.error?.message).toBe(503);
      expect(r.error?.code).toBe("ERR_CLOCK_SKEW");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    // A lifecycle call is refused too and leaves nothing behind.
    const reg = await answer(srv, issuer.token, (c) => c.createAgent("future"));
    expect(reg.status).toBeGreaterThanOrEqual(500);

    await setOffset(0);
    const after = [];
    for (let i = 0; i < 3; i++) {
      const r = await append(200 + i);
      expect(r.status, r.error?.message).toBe(201);
      after.push(r.value!.entry);
    }
    for (const e of after) expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(60_000);

    const exp = await answer(srv, issuer.token, async (c) => streamText(await c.exportLog({ payloads: true })));
    expect(exp.status).toBe(200);
    const entries = exp
      .value!.split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((l) => l.kind === "entry")
      .map((l) => l.entry);
    expect(entries).toHaveLength(1 + 3 + 3); // registration, 3 before, 3 after: nothing from the jump
    for (const e of entries) expect(Date.parse(e.time)).toBeLessThanOrEqual(Date.now() + 1_000);
    const caPem = await apiClient(srv).caPem();
    const fp = `sha256:${createHash("sha256").update(new X509Certificate(caPem).raw).digest("hex")}`;
    const file = join(dir, "export.ndjson");
    writeFileSync(file, exp.value!);
    const v = spawnSync(process.execPath, [BIN, "log", file, "--ca-fingerprint", fp], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(v.status, v.stdout + v.stderr).toBe(0);
  }, 120_000);

  it("behind the CA's notBefore, agent creation says ERR_CA_NOT_YET_VALID", async () => {
    await setOffset(-2 * DAY);
    const r = await apiError(issuer.client.createAgent("past"));
    expect(r.status, r.message).toBe(409);
    expect(r.code).toBe("ERR_CA_NOT_YET_VALID");
    expect(r.detail).toMatch(/not yet valid/);
    await setOffset(0);
    expect((await answer(srv, issuer.token, (c) => c.createAgent("now"))).status).toBe(201);
    await srv.stop();
    const log = readFileSync(srv.logPath, "utf8");
    expect(log).toMatch(/appends frozen/);
    expect(log).toMatch(/appends resumed/);
  }, 120_000);
});
