/**
 * Append throughput on PostgreSQL with one and with three server instances (real server processes,
 * one local KMS process at 15 ms injected latency, 128 keep-alive clients, one issuer), beside SQLite
 * with one instance. Clients are spread round-robin over the instances, as a load balancer would.
 * After each cell the chain is exported and its links checked (contiguous seq, prevHash = previous hash).
 *
 *   npm run bench -- postgres [--duration 5] [--latency 15] [--clients 128] [--agents 8]
 *
 * Needs PostgreSQL at KAKUNIN_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres);
 * without it the PostgreSQL rows are reported as skipped.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startLocalKms } from "../../test/helpers/kms.js";
import { createTestDatabase, postgresAvailable } from "../../test/helpers/postgres.js";
import { startServer, type RunningServer } from "../../test/helpers/server.js";
import { setupIssuer, streamText } from "../../test/helpers/client.js";
import { cores, fmt, percentile, table } from "./lib.js";

export const description = "append throughput: PostgreSQL with 1 and 3 instances vs SQLite with 1, KMS at 15 ms";

interface Cell {
  db: string;
  instances: number;
  ok: number;
  errors: number;
  seconds: number;
  lat: number[];
  chain: string;
  signsPerEntry: number;
}

/** Successful KMS Sign calls so far (the local KMS's CloudTrail-style access log; flushed per line). */
function kmsSigns(accessLogPath: string): number {
  let n = 0;
  try {
    for (const line of readFileSync(accessLogPath, "utf8").split("\n")) {
      if (line.includes('"eventName":"Sign"') && !line.includes('"errorCode":"')) n++;
    }
  } catch {
    return NaN;
  }
  return n;
}

/** The measured loop stays on bare fetch (as in the earlier figures): one request, one status, no client layer. */
async function load(urls: string[], agents: { id: string; token: string }[], clients: number, seconds: number) {
  const lat: number[] = [];
  let ok = 0;
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const base = urls[c % urls.length]!;
      for (let k = 0; performance.now() < end; k++) {
        const a = agents[(c + k) % agents.length]!;
        const s = performance.now();
        try {
          const res = await fetch(`${base}/v1/agents/${a.id}/operations`, {
            method: "POST",
            headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
            body: JSON.stringify({ payload: { c, k, note: "benchmark operation" } }),
          });
          await res.arrayBuffer();
          if (res.status === 201) {
            ok++;
            lat.push(performance.now() - s);
          } else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { ok, errors, seconds: (performance.now() - t0) / 1000, lat: lat.sort((x, y) => x - y) };
}

async function cell(
  db: "sqlite" | "postgres",
  instances: number,
  o: { latency: number; clients: number; seconds: number; agents: number },
): Promise<Cell> {
  const kms = await startLocalKms({ latencyMs: o.latency });
  const database = db === "postgres" ? await createTestDatabase() : undefined;
  const servers: RunningServer[] = [];
  try {
    const env: Record<string, string> = { LOG_LEVEL: "warn", ...(database ? { DATABASE_URL: database.url } : {}) };
    const first = await startServer({ kmsEndpoint: kms.endpoint, env });
    servers.push(first);
    for (let i = 1; i < instances; i++)
      servers.push(await startServer({ kmsEndpoint: kms.endpoint, env, operatorToken: first.operatorToken }));
    const iss = await setupIssuer(first, first.operatorToken, o.agents, "Bench Corp", "bench");
    const agents = iss.agents;
    const urls = servers.map((s) => s.url);
    await load(urls, agents, o.clients, 3); // warm-up: JIT and connections, at the measured concurrency
    const signs0 = kmsSigns(kms.accessLogPath);
    const r = await load(urls, agents, o.clients, o.seconds);
    await new Promise((res) => setTimeout(res, 300)); // let the access log catch up
    const signs = kmsSigns(kms.accessLogPath) - signs0;
    // The chain is one contiguous chain with intact links.
    const exp = await streamText(await iss.client.exportLog());
    const entries = exp
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((l) => l.kind === "entry")
      .map((l) => l.entry);
    let okChain = true;
    entries.forEach((e, i) => {
      if (e.seq !== i || (i > 0 && e.prevHash !== entries[i - 1].hash)) okChain = false;
    });
    // KMS signs per acknowledged entry during the run (checkpoints add a few): > 1 means re-signed batches.
    return {
      db,
      instances,
      ...r,
      chain: `${entries.length} entries, ${okChain ? "links OK" : "BROKEN"}`,
      signsPerEntry: r.ok ? signs / r.ok : NaN,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await kms.stop();
    await database?.drop();
  }
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "5" },
      latency: { type: "string", default: "15" },
      clients: { type: "string", default: "128" },
      agents: { type: "string", default: "8" },
    },
  });
  const o = {
    seconds: Number(values.duration),
    latency: Number(values.latency),
    clients: Number(values.clients),
    agents: Number(values.agents),
  };
  const pg = await postgresAvailable();
  console.log(
    `machine: ${cores} cores shared by the clients, every server instance, the KMS and PostgreSQL; ${o.seconds}s per cell, KMS ${o.latency} ms, ${o.clients} clients, one issuer.`,
  );
  const plan: ["sqlite" | "postgres", number][] = [
    ["sqlite", 1],
    ["postgres", 1],
    ["postgres", 3],
  ];
  const cells: Cell[] = [];
  for (const [db, n] of plan) {
    if (db === "postgres" && !pg) {
      console.log(`  ${db} × ${n}: SKIPPED (no PostgreSQL answers)`);
      continue;
    }
    const c = await cell(db, n, o);
    cells.push(c);
    console.log(
      `  ${db} × ${n}: ${fmt(c.ok / c.seconds)} appends/s, p50 ${fmt(percentile(c.lat, 50), 1)} ms, p99 ${fmt(percentile(c.lat, 99), 1)} ms, errors ${c.errors}; KMS signs/append ${fmt(c.signsPerEntry, 2)}; ${c.chain}`,
    );
  }
  console.log(`\nAppend (201 after durable commit), KMS ${o.latency} ms, ${o.clients} clients, one issuer:`);
  console.log(
    table(
      ["database", "instances", "appends/s", "p50 ms", "p99 ms", "errors", "KMS signs/append", "chain"],
      cells.map((c) => [
        c.db,
        c.instances,
        fmt(c.ok / c.seconds),
        fmt(percentile(c.lat, 50), 1),
        fmt(percentile(c.lat, 99), 1),
        c.errors,
        fmt(c.signsPerEntry, 2),
        c.chain,
      ]),
    ),
  );
}
