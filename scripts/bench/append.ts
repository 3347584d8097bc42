/**
 * Append throughput and latency for one issuer: a real server process (server/main.ts) and a real
 * local KMS process (scripts/kms), keep-alive fetch clients, KMS at 0 ms and 15 ms injected latency,
 * 1/16/128 concurrent clients. Beside it the physical ceilings on this machine: openssl RSA-2048
 * sign rate (1 core and -multi), the local KMS's own Sign rate, and SQLite commit rates.
 *
 *   npm run bench -- append [--duration 5] [--latency 0,15] [--clients 1,16,128] [--repeat 1] [--agents 8] [--client autocannon|http]
 *
 * `--repeat N` runs every cell N times: this VM's speed moves between runs (the same code, back to
 * back, measured 980 and 1,450 appends/s, with every process's CPU per append moving together), so
 * each run also records `openssl speed` (1 s, one core) taken just before it, and the summary gives
 * the median and range per cell.
 */
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreateKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import autocannon from "autocannon";
import { startLocalKms } from "../../test/helpers/kms.js";
import { startServer } from "../../test/helpers/server.js";
import { cores, cpuSeconds, fmt, opensslRsaSignRate, percentile, pidsByCmdline, table } from "./lib.js";

export const description = "audit-log appends/s and p50/p99 latency vs KMS latency and client concurrency";

interface Row {
  kmsMs: number;
  clients: number;
  run: number;
  opensslSigns: number;
  ok: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
  serverCpuMs: number;
  kmsCpuMs: number;
  clientCpuMs: number;
}
type LoadResult = Pick<Row, "clients" | "ok" | "errors" | "seconds" | "p50" | "p99">;

/**
 * The load generator: autocannon (the load generator Node's HTTP frameworks benchmark with), one
 * keep-alive HTTP/1.1 connection per client with one request in flight, round-robin over the agents.
 * On a 2-core machine every millisecond the load generator burns is taken from the server and the
 * KMS: node:http's client costs ≈ 0.15 ms per request, autocannon a fraction of that.
 * `--client http` uses node:http instead.
 */
async function loadAutocannon(
  baseUrl: string,
  agents: { id: string; token: string }[],
  clients: number,
  seconds: number,
): Promise<LoadResult> {
  let n = 0;
  const r = await autocannon({
    url: baseUrl,
    connections: clients,
    pipelining: 1,
    duration: seconds,
    requests: [
      {
        method: "POST",
        setupRequest: (req) => {
          const a = agents[n % agents.length]!;
          const body = JSON.stringify({ payload: { n: n++, note: "benchmark operation" } });
          return {
            ...req,
            path: `/v1/agents/${a.id}/operations`,
            headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
            body,
          };
        },
      },
    ],
  });
  // Only 201 counts: any other status, socket error or timeout (counted in `errors`) is an error.
  const created = r.statusCodeStats?.["201"]?.count ?? 0;
  return {
    clients,
    ok: created,
    errors: r.requests.total - created + r.errors,
    seconds: r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
function postHttp(url: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.on("data", () => undefined);
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

let clientKind: "autocannon" | "http" = "autocannon";

/** node:http keep-alive clients, one request in flight each (the `--client http` load generator). */
async function loadHttp(
  baseUrl: string,
  agents: { id: string; token: string }[],
  clients: number,
  seconds: number,
): Promise<LoadResult> {
  const lat: number[] = [];
  let ok = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let k = 0; performance.now() < end; k++) {
        const a = agents[(c + k) % agents.length]!;
        const body = JSON.stringify({ payload: { c, k, note: "benchmark operation" } });
        const t0 = performance.now();
        const status = await postHttp(`${baseUrl}/v1/agents/${a.id}/operations`, a.token, body);
        if (status === 201) {
          ok++;
          lat.push(performance.now() - t0);
        } else errors++;
      }
    }),
  );
  lat.sort((x, y) => x - y);
  return {
    clients,
    ok,
    errors,
    seconds: (performance.now() - started) / 1000,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
  };
}

const load = (baseUrl: string, agents: { id: string; token: string }[], clients: number, seconds: number) =>
  (clientKind === "autocannon" ? loadAutocannon : loadHttp)(baseUrl, agents, clients, seconds);

async function kmsSignRate(
  endpoint: string,
  client: ReturnType<Awaited<ReturnType<typeof startLocalKms>>["client"]>,
  seconds: number,
  concurrency: number,
): Promise<number> {
  void endpoint;
  const key = await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }));
  const digest = new Uint8Array(32).fill(7);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await client.send(
          new SignCommand({
            KeyId: key.KeyMetadata!.Arn!,
            Message: digest,
            MessageType: "DIGEST",
            SigningAlgorithm: "RSASSA_PSS_SHA_256",
          }),
        );
        n++;
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

async function sqliteCommitRate(synchronous: "NORMAL" | "FULL", seconds: number): Promise<number> {
  const { default: SQLite } = await import("better-sqlite3");
  const dir = mkdtempSync(join(tmpdir(), "kakunin-bench-sqlite-"));
  try {
    const db = new SQLite(join(dir, "b.db"));
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous}`);
    db.exec("create table t (k integer primary key, v text)");
    const ins = db.prepare("insert into t (v) values (?)");
    const body = "x".repeat(900);
    let n = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    while (performance.now() < end) {
      db.transaction(() => ins.run(body))();
      n++;
    }
    const rate = n / ((performance.now() - t0) / 1000);
    db.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The appender alone (AuditLog.appendOperation in-process: no HTTP, no auth), real KMS process + SQLite. */
async function inProcess(
  kmsMs: number,
  concurrency: number,
  seconds: number,
): Promise<{ rate: number; p50: number; p99: number; cpuMs: number; kmsCpuMs: number; avgBatch: number }> {
  const { loadConfig } = await import("../../server/config.js");
  const { createLogger } = await import("../../server/logger.js");
  const { startServices } = await import("../../server/bootstrap.js");
  const kms = await startLocalKms({ latencyMs: kmsMs });
  const dir = mkdtempSync(join(tmpdir(), "kakunin-bench-inproc-"));
  const config = loadConfig({
    DATA_DIR: dir,
    KMS_ENDPOINT: kms.endpoint,
    KAKUNIN_OPERATOR_TOKEN: "kkn_op_bench-bench-bench-bench-bench-bench",
    KAKUNIN_SCHEDULER_INTERVAL_MS: "0",
  });
  const services = await startServices(config, createLogger("silent"), { kms: kms.client({ maxAttempts: 1 }) });
  try {
    const { deps } = services;
    const log = deps.log!;
    const { registerAgent } = await import("../../server/authority/register-agent.js");
    const issuerId = `iss_${"b".repeat(32)}`;
    await deps.db
      .insertInto("issuers")
      .values({ id: issuerId, name: "Bench", created_at: new Date().toISOString() })
      .execute();
    const agents: string[] = [];
    for (let i = 0; i < 8; i++) agents.push((await registerAgent(deps, issuerId, `bench-${i}`)).id);
    const kmsPid = pidsByCmdline(kms.dataDir)[0];
    const lat: number[] = [];
    const k0 = kmsPid ? cpuSeconds(kmsPid) : NaN;
    const c0 = process.cpuUsage();
    const b0 = log.stats.batches;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, c) => {
        for (let k = 0; performance.now() < end; k++) {
          const s = performance.now();
          await log.appendOperation(issuerId, agents[(c + k) % agents.length]!, {
            json: { c, k, note: "benchmark operation" },
          });
          lat.push(performance.now() - s);
        }
      }),
    );
    const el = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    lat.sort((x, y) => x - y);
    return {
      rate: lat.length / el,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      cpuMs: (cu.user + cu.system) / 1000 / lat.length,
      kmsCpuMs: kmsPid ? ((cpuSeconds(kmsPid) - k0) * 1000) / lat.length : NaN,
      avgBatch: lat.length / Math.max(1, log.stats.batches - b0),
    };
  } finally {
    await services.deps.log?.close();
    await services.close();
    await kms.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "5" },
      latency: { type: "string", default: "0,15" },
      clients: { type: "string", default: "1,16,128" },
      agents: { type: "string", default: "8" },
      repeat: { type: "string", default: "1" },
      client: { type: "string", default: "autocannon" },
    },
  });
  if (values.client !== "autocannon" && values.client !== "http") throw new Error("--client is autocannon or http");
  clientKind = values.client;
  const seconds = Number(values.duration);
  const latencies = values.latency!.split(",").map(Number);
  const clientCounts = values.clients!.split(",").map(Number);
  const nAgents = Number(values.agents);
  const repeat = Math.max(1, Number(values.repeat) || 1);

  console.log(
    `machine: ${cores} cores; client, server and KMS processes share them. ${seconds}s per cell; load generator: ${clientKind === "autocannon" ? "autocannon, keep-alive HTTP/1.1" : "node:http keep-alive agent"}.`,
  );
  const rows: Row[] = [];
  const kmsRates: [number, number][] = [];
  for (const kmsMs of latencies) {
    const kms = await startLocalKms({ latencyMs: kmsMs });
    const server = await startServer({ kmsEndpoint: kms.endpoint, env: { LOG_LEVEL: "warn" } });
    try {
      const j = async (method: string, path: string, token: string, body?: unknown) => {
        const res = await fetch(server.url + path, {
          method,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        const json = (await res.json()) as any;
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
        return json;
      };
      const iss = await j("POST", "/v1/issuers", server.operatorToken, { name: "Bench Corp" });
      const agents: { id: string; token: string }[] = [];
      for (let i = 0; i < nAgents; i++) {
        const ag = await j("POST", "/v1/agents", iss.token, { name: `bench-${i}` });
        const tok = await j("POST", `/v1/agents/${ag.id}/tokens`, iss.token);
        agents.push({ id: ag.id, token: tok.token });
      }
      // Warm-up: until V8 has compiled the hot paths, every process spends 2–3× its steady CPU per request.
      await load(server.url, agents, Math.max(...clientCounts), 3);
      const serverPid = pidsByCmdline("server/main.ts", `DATA_DIR=${server.dataDir}\u0000`)[0];
      const kmsPid = pidsByCmdline(kms.dataDir)[0];
      const cpu = () => ({
        s: serverPid ? cpuSeconds(serverPid) : NaN,
        k: kmsPid ? cpuSeconds(kmsPid) : NaN,
        c: process.cpuUsage(),
      });
      for (const clients of clientCounts) {
        for (let run = 1; run <= repeat; run++) {
          const opensslSigns = repeat > 1 ? opensslRsaSignRate(1, 1) : NaN;
          const before = cpu();
          const r = await load(server.url, agents, clients, seconds);
          const after = cpu();
          const perAppend = (sec: number) => (r.ok ? (sec * 1000) / r.ok : NaN);
          const cu = process.cpuUsage(before.c);
          const row: Row = {
            kmsMs,
            run,
            opensslSigns,
            ...r,
            serverCpuMs: perAppend(after.s - before.s),
            kmsCpuMs: perAppend(after.k - before.k),
            clientCpuMs: perAppend((cu.user + cu.system) / 1e6),
          };
          rows.push(row);
          console.log(
            `  kms ${kmsMs} ms, ${clients} clients${repeat > 1 ? ` (run ${run}/${repeat}, openssl ${fmt(opensslSigns)} signs/s)` : ""}: ${fmt(r.ok / r.seconds)} appends/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms, errors ${r.errors}; CPU ms/append: server ${fmt(row.serverCpuMs, 2)}, KMS ${fmt(row.kmsCpuMs, 2)}, client ${fmt(row.clientCpuMs, 2)}`,
          );
        }
      }
      // sanity: the chain is complete
      const cp = await j("GET", "/v1/log/checkpoint", iss.token);
      console.log(`  chain size after the runs: ${cp.size}`);
      kmsRates.push([kmsMs, await kmsSignRate(kms.endpoint, kms.client({ maxAttempts: 1 }), 3, 128)]);
    } finally {
      await server.stop();
      await kms.stop();
    }
  }

  console.log("\nAppend (POST /v1/agents/{id}/operations → 201 after durable commit), one issuer:");
  console.log(
    table(
      [
        "KMS latency",
        "clients",
        ...(repeat > 1 ? ["run", "openssl signs/s"] : []),
        "appends/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "server CPU ms/append",
        "KMS CPU ms/append",
        "client CPU ms/append",
      ],
      rows.map((r) => [
        `${r.kmsMs} ms`,
        r.clients,
        ...(repeat > 1 ? [r.run, fmt(r.opensslSigns)] : []),
        fmt(r.ok / r.seconds),
        fmt(r.p50, 1),
        fmt(r.p99, 1),
        r.errors,
        fmt(r.serverCpuMs, 2),
        fmt(r.kmsCpuMs, 2),
        fmt(r.clientCpuMs, 2),
      ]),
    ),
  );
  if (repeat > 1) {
    console.log(`\nPer cell over ${repeat} runs (appends/s):`);
    const cells = [...new Set(rows.map((r) => `${r.kmsMs}|${r.clients}`))];
    console.log(
      table(
        ["KMS latency", "clients", "median", "min", "max", "runs ≥ 1,000/s"],
        cells.map((c) => {
          const rs = rows
            .filter((r) => `${r.kmsMs}|${r.clients}` === c)
            .map((r) => r.ok / r.seconds)
            .sort((a, b) => a - b);
          const [kmsMs, clients] = c.split("|");
          return [
            `${kmsMs} ms`,
            clients!,
            fmt(percentile(rs, 50)),
            fmt(rs[0]!),
            fmt(rs[rs.length - 1]!),
            `${rs.filter((x) => x >= 1000).length}/${rs.length}`,
          ];
        }),
      ),
    );
  }

  const best = rows.filter((r) => r.clients === Math.max(...clientCounts) && r.run === 1);
  for (const r of best) {
    const total = r.serverCpuMs + r.kmsCpuMs + r.clientCpuMs;
    console.log(
      `CPU budget at ${r.kmsMs} ms/${r.clients} clients: ${fmt(total, 2)} ms per append across processes → ≤ ${fmt((cores * 1000) / total)} appends/s on ${cores} cores if CPU-bound (server ${fmt(r.serverCpuMs, 2)}, KMS ${fmt(r.kmsCpuMs, 2)}, load generator ${fmt(r.clientCpuMs, 2)}).`,
    );
  }
  console.log(
    `Load average now: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")} (other processes on the machine skew every figure).`,
  );
  console.log(
    "\nThe appender alone (in-process AuditLog.appendOperation: no HTTP/auth/load-generator; real KMS process + SQLite):",
  );
  const inRows: (string | number)[][] = [];
  for (const kmsMs of latencies) {
    const r = await inProcess(kmsMs, Math.max(...clientCounts), seconds);
    inRows.push([
      `${kmsMs} ms`,
      Math.max(...clientCounts),
      fmt(r.rate),
      fmt(r.p50, 1),
      fmt(r.p99, 1),
      fmt(r.avgBatch, 1),
      fmt(r.cpuMs, 2),
      fmt(r.kmsCpuMs, 2),
    ]);
  }
  console.log(
    table(
      [
        "KMS latency",
        "concurrent",
        "appends/s",
        "p50 ms",
        "p99 ms",
        "avg batch",
        "app CPU ms/append",
        "KMS CPU ms/append",
      ],
      inRows,
    ),
  );
  console.log("\nCeilings on this machine:");
  const single = opensslRsaSignRate(3, 1);
  const multi = opensslRsaSignRate(3, Math.max(2, cores));
  const normal = await sqliteCommitRate("NORMAL", 2);
  const full = await sqliteCommitRate("FULL", 2);
  console.log(
    table(
      ["what", "per second"],
      [
        ["openssl speed -seconds 3 rsa2048 (1 core), signs", fmt(single)],
        [`openssl speed -seconds 3 -multi ${Math.max(2, cores)} rsa2048, signs`, fmt(multi)],
        ...kmsRates.map(([ms, r]): [string, string] => [
          `local KMS Sign via SDK, 128 concurrent, ${ms} ms latency`,
          fmt(r),
        ]),
        ["SQLite WAL commits, synchronous=NORMAL (1 row each)", fmt(normal)],
        ["SQLite WAL commits, synchronous=FULL (1 row each)", fmt(full)],
      ],
    ),
  );
}
