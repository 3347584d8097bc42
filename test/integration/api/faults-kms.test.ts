/**
 * Issue 19, items 1 and 2: a hung KMS. The real local KMS process is frozen with SIGSTOP (it keeps
 * its socket open: connections are accepted by the kernel and never answered — the worst kind of
 * outage) under a real server process, over real HTTP.
 *  - writes (append, registration, rotation) answer 503 ERR_KMS_UNAVAILABLE with Retry-After within
 *    the configured deadlines, instead of waiting for KMS;
 *  - /healthz stays 200 (liveness), /readyz answers 503 naming KMS as degraded;
 *  - reads never need KMS: the export and the checkpoint are served from what is committed, ending
 *    at the latest signed checkpoint, with the `kakunin-coverage` header saying so — and that
 *    export verifies with kakunin-verify;
 *  - after SIGCONT everything works again without a restart.
 */
import { spawnSync } from "node:child_process";
import { X509Certificate, createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import type { Schemas } from "@kakunin/client";
import { answer, apiClient, apiError, setupIssuer, streamText, type TestIssuer } from "../../helpers/client.js";

const BIN = resolve(__dirname, "../../../verifier/bin/kakunin-verify.js");
const CALL_TIMEOUT_MS = 1_500;
const DEADLINE_MS = 3_000;

let kms: LocalKms;
let srv: RunningServer;
let dir: string;
let issuer: TestIssuer;
let agent: { id: string };
let stopped = false;

const append = (n: number) => answer(srv, issuer.token, (c) => c.sign(agent.id, { payload: { n } }));
const exportText = (payloads = false) =>
  answer(srv, issuer.token, async (c) => streamText(await c.exportLog({ payloads })));
/** The probes, through the typed client's openapi-fetch (no retries: a 503 is what is checked). */
const probe = (path: "/readyz" | "/healthz") => apiClient(srv).raw.GET(path);

/** Appends per second for 1 s with 16 concurrent clients (printed for the report, never asserted). */
async function appendRate(): Promise<number> {
  const end = performance.now() + 1_000;
  let n = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < end) if ((await append(n)).status === 201) n++;
    }),
  );
  return n;
}

function freeze() {
  process.kill(kms.pid, "SIGSTOP");
  stopped = true;
}
function thaw() {
  process.kill(kms.pid, "SIGCONT");
  stopped = false;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kakunin-faults-kms-"));
  kms = await startLocalKms();
  srv = await startServer({
    kmsEndpoint: kms.endpoint,
    env: {
      KAKUNIN_KMS_CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
      KAKUNIN_REQUEST_DEADLINE_MS: String(DEADLINE_MS),
      // No scheduled publication during the test: the only signed checkpoint is the one the first
      // export makes, so the frozen reads must fall back on it (deterministically partial).
      KAKUNIN_CHECKPOINT_INTERVAL_MS: "600000",
    },
  });
  issuer = await setupIssuer(srv, srv.operatorToken, 1, "Hung KMS Ltd", "bot");
  agent = issuer.agents[0]!;
  for (let i = 0; i < 5; i++) expect((await append(i)).status).toBe(201);
}, 120_000);

afterAll(async () => {
  if (stopped) thaw();
  await srv?.stop();
  await kms?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("KMS frozen with SIGSTOP", () => {
  it("writes answer 503 ERR_KMS_UNAVAILABLE with Retry-After instead of hanging; reads and liveness keep working; all recovers on SIGCONT", async () => {
    expect((await probe("/readyz")).response.status).toBe(200);
    // A signed checkpoint of 6 entries (registration + 5 operations), then 3 entries it does not cover.
    expect((await exportText()).status).toBe(200);
    for (let i = 5; i < 8; i++) expect((await append(i)).status).toBe(201);
    const rateBefore = await appendRate();

    freeze();
    const first = await append(99);
    console.info(
      `[faults-kms] first append after SIGSTOP: ${first.status} in ${Math.round(first.ms)} ms (call timeout ${CALL_TIMEOUT_MS} ms, deadline ${DEADLINE_MS} ms)`,
    );
    expect(first.status).toBe(503);
    // Appends: bounded by the deadline (a KMS call timeout past it at most), never by KMS.
    const appends = await Promise.all([0, 1, 2, 3].map((i) => append(100 + i)));
    for (const a of appends) {
      expect(a.status).toBe(503);
      expect(a.error?.code).toBe("ERR_KMS_UNAVAILABLE");
      expect(a.headers.get("content-type")).toMatch(/problem\+json/);
      expect(Number(a.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // A bound, not a speed: the frozen KMS would otherwise hold the request forever.
      expect(a.ms).toBeLessThan(DEADLINE_MS + CALL_TIMEOUT_MS + 5_000);
    }
    const reg = await apiError(issuer.client.createAgent("late"));
    expect(reg.status).toBe(503);
    expect(reg.code).toBe("ERR_KMS_UNAVAILABLE");
    const rot = await apiError(issuer.client.rotateAgent(agent.id));
    expect(rot.status).toBe(503);
    expect(rot.code).toBe("ERR_KMS_UNAVAILABLE");

    // Liveness stays up; readiness names the degraded dependency.
    expect((await probe("/healthz")).response.status).toBe(200);
    const ready = await probe("/readyz");
    expect(ready.response.status).toBe(503);
    // openapi-fetch types a non-problem 503 body as `never`; it is the Readiness document.
    const readiness = ready.error as unknown as Schemas["Readiness"];
    expect(readiness.dependencies.kms.state).toBe("degraded");
    expect(readiness.dependencies.database.state).toBe("ok");

    // Reads: served from what is committed, without KMS.
    const entries = await answer(srv, issuer.token, (c) => c.logEntries());
    expect(entries.status).toBe(200);
    const size = entries.value!.size;
    expect(size).toBeGreaterThanOrEqual(9);
    const cp = await answer(srv, issuer.token, (c) => c.checkpoint());
    expect(cp.status).toBe(200);
    expect(cp.value!.size).toBe(6);
    expect(cp.headers.get("kakunin-coverage")).toBe(`partial; checkpoint-size=6; log-size=${size}`);
    const pub = await answer(srv, undefined, (c) => c.publicCheckpoint(issuer.id));
    expect(pub.status).toBe(200);
    const exp = await exportText(true);
    expect(exp.status).toBe(200);
    expect(exp.ms).toBeLessThan(CALL_TIMEOUT_MS + 5_000);
    const lines = exp
      .value!.split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const checkpoint = lines.find((l) => l.kind === "checkpoint").checkpoint;
    const header = lines[0];
    expect(checkpoint.size).toBe(6);
    expect(header.range.to).toBe(5);
    expect(lines.filter((l) => l.kind === "entry")).toHaveLength(6);
    expect(exp.headers.get("kakunin-coverage")).toBe(`partial; to=5; requested-to=${size - 1}; log-size=${size}`);
    // What was served verifies offline, pinned to the CA.
    const caPem = await apiClient(srv).caPem();
    const fp = `sha256:${createHash("sha256").update(new X509Certificate(caPem).raw).digest("hex")}`;
    const file = join(dir, "frozen.ndjson");
    writeFileSync(file, exp.value!);
    const v = spawnSync(process.execPath, [BIN, "log", file, "--ca-fingerprint", fp], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(v.status, v.stdout + v.stderr).toBe(0);

    thaw();
    // Recovers without a restart.
    let ok = false;
    for (let i = 0; i < 40 && !ok; i++) {
      ok = (await append(200 + i)).status === 201;
      if (!ok) await new Promise((r) => setTimeout(r, 250));
    }
    expect(ok).toBe(true);
    expect((await probe("/readyz")).response.status).toBe(200);
    const rateAfter = await appendRate();
    console.info(`[faults-kms] appends/s with 16 clients, 1 s: before ${rateBefore}, after SIGCONT ${rateAfter}`);
    const after = await exportText();
    expect(after.headers.get("kakunin-coverage")).toBeNull();
  }, 120_000);
});
