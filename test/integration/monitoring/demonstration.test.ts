/**
 * The issue's demonstration with real processes: the local KMS (writing CloudTrail files), the
 * server (KAKUNIN_CLOUDTRAIL on those files, the detectors' durations divided by 240 so that a
 * 60 s bucket is 0.25 s and an hour of caller warm-up 15 s), and a real HTTP webhook receiver
 * checking the HMAC with node:crypto.
 *
 * An agent signs steadily (about one signature per bucket), a second agent too: no alert. Then
 * the first agent's token signs from a new source address (127.0.0.2) at 50× its rate → a
 * signing-burst and a new-source-address alert, in `GET /v1/alerts`, at the webhook, and on the
 * issuer's chain as `key.anomaly` entries the verifier accepts. Then a KMS Sign with the agent's
 * key straight through the AWS SDK → after `POST /v1/admin/reconcile`, an unlogged-signature
 * alert naming the CloudTrail request id, while every Sign Kakunin made matches.
 */
import "reflect-metadata";
import { createHmac, timingSafeEqual } from "node:crypto";
import { X509Certificate } from "node:crypto";
import http, { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyExport } from "../../../verifier/src/index.js";
import { sha256 } from "../../unit/verifier/fixtures/chain.js";
import { signOutsideKakunin, startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";

const SECRET = "demo-webhook-secret-0123456789abcdef0123";
const SCALE = 240;
const BUCKET_MS = 60_000 / SCALE;

let kms: LocalKms;
let srv: RunningServer;
let receiver: Server;
const received: { valid: boolean; alert: any }[] = [];
let issuer: { id: string; token: string };
let agent: { id: string; keyArn: string; token: string };
let quiet: { id: string; token: string };

/** One HTTP request to the server from `localAddress` (the source address the server sees). */
function request(
  method: string,
  path: string,
  token: string,
  body?: unknown,
  localAddress = "127.0.0.1",
): Promise<{ status: number; json: any; text: string }> {
  const url = new URL(srv.url + path);
  const data = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        localAddress,
        headers: {
          authorization: `Bearer ${token}`,
          ...(data !== undefined
            ? { "content-type": "application/json", "content-length": Buffer.byteLength(data) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}
async function ok(method: string, path: string, token: string, body?: unknown) {
  const r = await request(method, path, token, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.json;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sign = (agentId: string, token: string, n: number, from = "127.0.0.1") =>
  request("POST", `/v1/agents/${agentId}/operations`, token, { payload: { n } }, from);

async function alertsOf(token: string, query = ""): Promise<any[]> {
  return (await ok("GET", `/v1/alerts${query}`, token)).alerts;
}

/** The receiver checks `Kakunin-Signature: t=…,v1=HMAC-SHA256(secret, "<t>.<body>")` itself. */
function startReceiver(): Promise<string> {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const header = String(req.headers["kakunin-signature"] ?? "");
      const t = /t=(\d+)/.exec(header)?.[1];
      const v1 = /v1=([0-9a-f]{64})/.exec(header)?.[1];
      const expected = t ? createHmac("sha256", SECRET).update(`${t}.${body}`).digest() : undefined;
      const valid = expected !== undefined && v1 !== undefined && timingSafeEqual(expected, Buffer.from(v1, "hex"));
      received.push({ valid, alert: JSON.parse(body) });
      res.writeHead(valid ? 204 : 401).end();
    });
  });
  return new Promise((resolve) =>
    receiver.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`)),
  );
}

beforeAll(async () => {
  kms = await startLocalKms();
  const hook = await startReceiver();
  srv = await startServer({
    kmsEndpoint: kms.endpoint,
    env: {
      KAKUNIN_CLOUDTRAIL: `dir:${kms.dataDir}/cloudtrail`,
      KAKUNIN_MONITOR_TIME_SCALE: String(SCALE),
      KAKUNIN_ALERT_WEBHOOK: hook,
      KAKUNIN_ALERT_WEBHOOK_SECRET: SECRET,
    },
  });
  issuer = await ok("POST", "/v1/issuers", srv.operatorToken, { name: "Acme Robotics" });
  const a = await ok("POST", "/v1/agents", issuer.token, { name: "invoice-bot" });
  const q = await ok("POST", "/v1/agents", issuer.token, { name: "quiet-bot" });
  agent = { id: a.id, keyArn: a.keyArn, token: (await ok("POST", `/v1/agents/${a.id}/tokens`, issuer.token)).token };
  quiet = { id: q.id, token: (await ok("POST", `/v1/agents/${q.id}/tokens`, issuer.token)).token };
}, 120_000);

afterAll(async () => {
  await srv?.stop();
  await kms?.stop();
  await new Promise((r) => receiver?.close(r));
});

describe("key-usage monitoring, end to end", () => {
  it("steady signing raises no alert; 50× from a new address raises a burst and a new-caller alert everywhere", async () => {
    // Steady phase: about one signature per bucket each, for longer than the warm-ups (30 buckets; 50 signatures over 15 s).
    const steadyUntil = Date.now() + 17_000;
    let n = 0;
    while (Date.now() < steadyUntil) {
      const tick = Date.now();
      const [r1, r2] = await Promise.all([sign(agent.id, agent.token, n), sign(quiet.id, quiet.token, n)]);
      expect(r1.status).toBe(201);
      expect(r2.status).toBe(201);
      n++;
      await sleep(Math.max(0, BUCKET_MS - (Date.now() - tick)));
    }
    expect(n).toBeGreaterThan(50);
    // Normal traffic: no alert at all (false positives counted: 0).
    expect(await alertsOf(srv.operatorToken)).toEqual([]);

    // The same token from a new source address at 50× the rate (50 per bucket, paced) for 2 s.
    const burstStart = Date.now();
    const burstCount = Math.round((2_000 / BUCKET_MS) * 50);
    const pending: Promise<{ status: number }>[] = [];
    for (let i = 0; i < burstCount; i++) {
      const at = burstStart + (i * BUCKET_MS) / 50;
      if (at > Date.now()) await sleep(at - Date.now());
      pending.push(sign(agent.id, agent.token, 100_000 + i, "127.0.0.2"));
    }
    const statuses = (await Promise.all(pending)).map((r) => r.status);
    expect(statuses.every((s) => s === 201)).toBe(true);
    const rate = burstCount / ((Date.now() - burstStart) / BUCKET_MS);
    console.log(
      `steady: ${n} signatures per agent at ~1 per ${BUCKET_MS} ms bucket; burst: ${burstCount} (${rate.toFixed(1)} per bucket)`,
    );

    // Within 60 s: both alerts in /v1/alerts (the issuer's view), at the webhook, and on the chain.
    const deadline = Date.now() + 60_000;
    let kinds = new Set<string>();
    while (Date.now() < deadline) {
      kinds = new Set((await alertsOf(issuer.token, `?agent=${agent.id}`)).map((a) => a.kind));
      if (kinds.has("signing-burst") && kinds.has("new-source-address")) break;
      await sleep(250);
    }
    expect(kinds).toContain("signing-burst");
    expect(kinds).toContain("new-source-address");
    const mine = await alertsOf(issuer.token);
    expect(mine.every((a) => a.agentId === agent.id)).toBe(true); // the quiet agent: none
    const address = mine.find((a) => a.kind === "new-source-address");
    expect(address.evidence.sourceAddress).toBe("127.0.0.2");
    const burstAlert = mine.find((a) => a.kind === "signing-burst");
    expect(burstAlert.evidence.count).toBeGreaterThan(burstAlert.evidence.threshold);
    // Filters: kind, and a window that ends before the burst holds none.
    expect((await alertsOf(issuer.token, "?kind=signing-burst")).map((a) => a.id)).toEqual([burstAlert.id]);
    expect(await alertsOf(issuer.token, `?until=${new Date(burstStart - 1).toISOString()}`)).toEqual([]);

    while (Date.now() < deadline && received.length < 2) await sleep(100);
    expect(received.every((r) => r.valid)).toBe(true);
    expect(new Set(received.map((r) => r.alert.kind))).toEqual(new Set(["signing-burst", "new-source-address"]));

    let anomalies: any[] = [];
    let lines: string[] = [];
    while (Date.now() < deadline) {
      const res = await request("GET", "/v1/log/export", issuer.token);
      lines = res.text.split("\n").filter((l) => l.length > 0);
      anomalies = lines.map((l) => JSON.parse(l)).filter((v) => v.kind === "entry" && v.entry.type === "key.anomaly");
      if (anomalies.length >= 2) break;
      await sleep(250);
    }
    expect(anomalies.map((a) => a.entry.details.alert).sort()).toEqual(mine.map((a) => a.id).sort());
    expect(anomalies.every((a) => a.entry.agent === agent.id && a.entry.signer.cert !== undefined)).toBe(true);
    // The export never carries evidence or KMS request ids.
    expect(lines.join("\n")).not.toMatch(/127\.0\.0\.2|kms_request_id|requestId/);
    const caPem = await (await fetch(`${srv.url}/v1/public/ca.pem`)).text();
    const report = await verifyExport(lines, {
      trust: { caFingerprint: `sha256:${sha256(new X509Certificate(caPem).raw)}` },
    });
    expect(report.errors).toEqual([]);
    expect(report.verdict).toBe("PASSED");
  }, 180_000);

  it("a KMS Sign made outside Kakunin is an unlogged signature after reconciliation, naming its request id", async () => {
    const requestId = await signOutsideKakunin(kms, agent.keyArn, 9);
    expect(requestId).toBeTruthy();

    // Only the operator may reconcile.
    expect((await request("POST", "/v1/admin/reconcile", issuer.token)).status).toBe(403);
    const deadline = Date.now() + 60_000;
    let unlogged: any;
    let matched = 0;
    let unloggedCount = 0;
    while (Date.now() < deadline && !unlogged) {
      await sleep(1_000); // the KMS writes its CloudTrail file every 2 s; the grace is 0.25 s here
      const report = await ok("POST", "/v1/admin/reconcile", srv.operatorToken);
      matched += report.matched;
      unloggedCount += report.unlogged;
      unlogged = report.alerts.find((a: any) => a.kind === "unlogged-signature");
    }
    expect(unlogged).toBeDefined();
    expect(unlogged.evidence.requestId).toBe(requestId);
    expect(unlogged.agentId).toBe(agent.id);
    expect(unlogged.severity).toBe("critical");
    // Every Sign Kakunin made (entries, certificates, CRL, checkpoints) matched; only the direct one did not.
    expect(matched).toBeGreaterThan(100);
    expect(unloggedCount).toBe(1);
    const listed = await alertsOf(issuer.token, "?kind=unlogged-signature");
    expect(listed.map((a) => a.evidence.requestId)).toEqual([requestId]);
  }, 120_000);

  it("signing on a revoked agent (409) and repeated authentication failures against an agent are flagged", async () => {
    const r = await ok("POST", "/v1/agents", issuer.token, { name: "retired-bot" });
    await ok("POST", `/v1/agents/${r.id}/revoke`, issuer.token, { reason: "cessationOfOperation" });
    const refused = await sign(r.id, issuer.token, 1);
    expect(refused.status).toBe(409);
    for (let i = 0; i < 8; i++) {
      const bad = await request("POST", `/v1/agents/${r.id}/operations`, "kkn_agt_not-a-token", { payload: {} });
      expect(bad.status).toBe(401);
    }
    const deadline = Date.now() + 30_000;
    let kinds = new Set<string>();
    while (Date.now() < deadline) {
      kinds = new Set((await alertsOf(issuer.token, `?agent=${r.id}`)).map((a) => a.kind));
      if (kinds.has("key-state") && kinds.has("auth-failures")) break;
      await sleep(200);
    }
    // The issuer sees both (the failures' issuer is resolved from the agent); nothing else about this agent.
    expect([...kinds].sort()).toEqual(["auth-failures", "key-state"]);
    // Another issuer sees none of it; the operator sees it too.
    const other = await ok("POST", "/v1/issuers", srv.operatorToken, { name: "Beta Logistics" });
    expect(await alertsOf(other.token)).toEqual([]);
    expect((await alertsOf(srv.operatorToken, `?agent=${r.id}`)).length).toBe(2);
    // Paging: one alert per page, newest first, `next` leads to the older one.
    const page1 = await ok("GET", `/v1/alerts?agent=${r.id}&limit=1`, issuer.token);
    const page2 = await ok("GET", `/v1/alerts?agent=${r.id}&limit=1&before=${page1.next}`, issuer.token);
    expect(page1.alerts[0].time >= page2.alerts[0].time).toBe(true);
    expect(page1.alerts[0].id).not.toBe(page2.alerts[0].id);
    expect((await request("GET", "/v1/alerts?before=bogus", issuer.token)).status).toBe(400);
  }, 60_000);
});
