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

const BIN = resolve(__dirname, "../../../verifier/bin/kakunin-verify.js");
const DAY = 86_400_000;
let kms: LocalKms;
let srv: RunningServer;
let dir: string;
let offsetFile: string;
let issuer: { id: string; token: string };
let agent: { id: string };

async function call(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(srv.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}
const append = (n: number) => call("POST", `/v1/agents/${agent.id}/operations`, issuer.token, { payload: { n } });
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
  const iss = await call("POST", "/v1/issuers", srv.operatorToken, { name: "Time Travel AG" });
  issuer = { id: iss.json.id, token: iss.json.token };
  agent = (await call("POST", "/v1/agents", issuer.token, { name: "bot" })).json;
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
      expect(r.status, r.text).toBe(503);
      expect(r.json.code).toBe("ERR_CLOCK_SKEW");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    // A lifecycle call is refused too and leaves nothing behind.
    const reg = await call("POST", "/v1/agents", issuer.token, { name: "future" });
    expect(reg.status).toBeGreaterThanOrEqual(500);

    await setOffset(0);
    const after = [];
    for (let i = 0; i < 3; i++) {
      const r = await append(200 + i);
      expect(r.status, r.text).toBe(201);
      after.push(r.json.entry);
    }
    for (const e of after) expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(60_000);

    const exp = await call("GET", "/v1/log/export?payloads=true", issuer.token);
    expect(exp.status).toBe(200);
    const entries = exp.text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.kind === "entry").map((l) => l.entry);
    expect(entries).toHaveLength(1 + 3 + 3); // registration, 3 before, 3 after: nothing from the jump
    for (const e of entries) expect(Date.parse(e.time)).toBeLessThanOrEqual(Date.now() + 1_000);
    const caPem = await (await fetch(`${srv.url}/v1/public/ca.pem`)).text();
    const fp = `sha256:${createHash("sha256").update(new X509Certificate(caPem).raw).digest("hex")}`;
    const file = join(dir, "export.ndjson");
    writeFileSync(file, exp.text);
    const v = spawnSync(process.execPath, [BIN, "log", file, "--ca-fingerprint", fp], { encoding: "utf8", timeout: 60_000 });
    expect(v.status, v.stdout + v.stderr).toBe(0);
  }, 120_000);

  it("behind the CA's notBefore, agent creation says ERR_CA_NOT_YET_VALID", async () => {
    await setOffset(-2 * DAY);
    const r = await call("POST", "/v1/agents", issuer.token, { name: "past" });
    expect(r.status, r.text).toBe(409);
    expect(r.json.code).toBe("ERR_CA_NOT_YET_VALID");
    expect(r.json.detail).toMatch(/not yet valid/);
    await setOffset(0);
    expect((await call("POST", "/v1/agents", issuer.token, { name: "now" })).status).toBe(201);
    await srv.stop();
    const log = readFileSync(srv.logPath, "utf8");
    expect(log).toMatch(/appends frozen/);
    expect(log).toMatch(/appends resumed/);
  }, 120_000);
});
