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
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { startLocalKms } from "../../test/helpers/kms.js";
import { startServer } from "../../test/helpers/server.js";
import { kmsSignRate, sqliteCommitRate } from "./append/ceilings.js";
import { inProcess } from "./append/in-process.js";
import { load, type LoadGenerator, type Row } from "./append/load.js";
import { cores, cpuSeconds, fmt, opensslRsaSignRate, percentile, pidsByCmdline, table } from "./lib.js";

export const description = "audit-log appends/s and p50/p99 latency vs KMS latency and client concurrency";

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
  const clientKind: LoadGenerator = values.client;
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
      await load(clientKind, server.url, agents, Math.max(...clientCounts), 3);
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
          const r = await load(clientKind, server.url, agents, clients, seconds);
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
