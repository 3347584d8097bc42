/**
 * Log v2 publication, against a real server process (server/main.ts) and a real local KMS process:
 *
 *  (a) serving a full tile: requests/s of `GET /v1/logs/<issuer>/tile/0/000` (immutable, 8 KiB)
 *      with N keep-alive autocannon clients (and, for comparison, the checkpoint and a partial tile);
 *  (b) receipt availability under the append bench's load (KMS at 15 ms, 128 autocannon clients
 *      appending): probes append one operation, and from its 2xx time how long until
 *      `GET /v1/log/entries/<seq>/receipt?wait=5` returns the kakunin-receipt/2 with its proof.
 *
 *  (c) the checker: `checkTiles` over an in-memory log (no network), tiles and leaves per second.
 *
 *   npm run bench -- tiles [--only serve|receipt|checker] [--duration 5] [--clients 1,16,64]
 *                          [--load-clients 128] [--latency 15] [--probes 4] [--leaves 262149]
 *
 * Server defaults throughout (KAKUNIN_CHECKPOINT_INTERVAL_MS 1000): what a deployment gets.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { startLocalKms } from "../../test/helpers/kms.js";
import { startServer, type RunningServer } from "../../test/helpers/server.js";
import { checkTiles } from "../../verifier/src/checks/tiles/index.js";
import { formatCheckpoint, parseTilePath, type Bytes } from "../../verifier/src/formats/index.js";
import { parseTlogProof } from "../../verifier/src/formats/tlog-proof.js";
import { logKey } from "../../test/helpers/witness-keys.js";
import { load } from "./append/load.js";
import { cores, fmt, percentile, table } from "./lib.js";

export const description =
  "full-tile GETs/s (keep-alive clients) and receipt-v2 availability after an append under load";

type Agent = { id: string; token: string };

async function api(server: RunningServer, method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await res.json()) as any;
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function issuerWithAgents(server: RunningServer, n: number) {
  const iss = await api(server, "POST", "/v1/issuers", server.operatorToken, { name: "Bench Tiles" });
  const agents: Agent[] = [];
  for (let i = 0; i < n; i++) {
    const ag = await api(server, "POST", "/v1/agents", iss.token, { name: `bench-${i}` });
    const tok = await api(server, "POST", `/v1/agents/${ag.id}/tokens`, iss.token);
    agents.push({ id: ag.id, token: tok.token });
  }
  return { id: iss.id as string, token: iss.token as string, agents };
}

/** autocannon GETs of one path: requests/s, latency and the status mix (only 200 counts). */
async function getRate(url: string, path: string, connections: number, seconds: number) {
  const r = await autocannon({ url: url + path, connections, pipelining: 1, duration: seconds });
  const ok = r.statusCodeStats?.["200"]?.count ?? 0;
  return {
    rate: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.requests.total - ok + r.errors,
    mbps: r.throughput.average / 1e6,
  };
}

async function tileServing(seconds: number, clientCounts: number[]): Promise<void> {
  const kms = await startLocalKms();
  const server = await startServer({ kmsEndpoint: kms.endpoint, env: { LOG_LEVEL: "warn" } });
  try {
    const iss = await issuerWithAgents(server, 2);
    // 2 registrations + 298 operations: tile 0/000 full (immutable), 0/001.p/44 partial.
    for (let k = 0; k < 298; k += 16)
      await Promise.all(
        Array.from({ length: Math.min(16, 298 - k) }, (_, j) =>
          api(server, "POST", `/v1/agents/${iss.agents[(k + j) % 2]!.id}/operations`, iss.agents[(k + j) % 2]!.token, {
            payload: { k: k + j },
          }),
        ),
      );
    const prefix = `/v1/logs/${iss.id}`;
    const until = Date.now() + 30_000;
    while (!(await (await fetch(`${server.url}${prefix}/checkpoint`)).text()).includes("\n300\n")) {
      if (Date.now() > until) throw new Error("no checkpoint of 300");
      await new Promise((r) => setTimeout(r, 100));
    }
    const full = await fetch(`${server.url}${prefix}/tile/0/000`);
    console.log(
      `  tile/0/000: ${full.status}, ${(await full.arrayBuffer()).byteLength} bytes, cache-control: ${full.headers.get("cache-control")}`,
    );
    await getRate(server.url, `${prefix}/tile/0/000`, Math.max(...clientCounts), 2); // warm-up
    const rows: (string | number)[][] = [];
    const paths = [
      ["tile/0/000 (full, immutable)", `${prefix}/tile/0/000`],
      ["tile/0/001.p/44 (partial)", `${prefix}/tile/0/001.p/44`],
      ["checkpoint", `${prefix}/checkpoint`],
    ] as const;
    for (const [name, path] of paths)
      for (const c of path.endsWith("/000") ? clientCounts : [Math.max(...clientCounts)]) {
        const r = await getRate(server.url, path, c, seconds);
        console.log(`  ${name}, ${c} clients: ${fmt(r.rate)} req/s, p50 ${fmt(r.p50, 1)} ms, p99 ${fmt(r.p99, 1)} ms`);
        rows.push([name, c, fmt(r.rate), fmt(r.p50, 1), fmt(r.p99, 1), r.errors, fmt(r.mbps, 1)]);
      }
    console.log(
      `\nServing tiles (GET, keep-alive HTTP/1.1 autocannon clients, ${seconds}s per row; target ≥ 5,000 req/s for a full tile):`,
    );
    console.log(table(["path", "clients", "req/s", "p50 ms", "p99 ms", "errors", "MB/s"], rows));
  } finally {
    await server.stop();
    await kms.stop();
  }
}

/** One probe: append, then read the v2 receipt with ?wait=5; ms from the append's 2xx to the receipt. */
async function probe(server: RunningServer, a: Agent): Promise<number | "timeout" | "error"> {
  const res = await fetch(`${server.url}/v1/agents/${a.id}/operations`, {
    method: "POST",
    headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
    body: JSON.stringify({ payload: { probe: true } }),
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 201) return "error";
  const t0 = performance.now();
  const seq = ((await res.json()) as { entry: { seq: number } }).entry.seq;
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await fetch(`${server.url}/v1/log/entries/${seq}/receipt?wait=5`, {
      headers: { authorization: `Bearer ${a.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await r.json()) as { format?: string; proof?: string; code?: string };
    if (r.status === 200) {
      if (body.format !== "kakunin-receipt/2" || !body.proof || parseTlogProof(body.proof).index !== seq)
        return "error";
      return performance.now() - t0;
    }
    if (r.status !== 404 || body.code !== "ERR_RECEIPT_NOT_READY") return "error";
  }
  return "timeout";
}

async function receiptAvailability(seconds: number, latencyMs: number, loadClients: number, probes: number) {
  const kms = await startLocalKms({ latencyMs });
  const server = await startServer({ kmsEndpoint: kms.endpoint, env: { LOG_LEVEL: "warn" } });
  try {
    const iss = await issuerWithAgents(server, 8);
    const [probeAgent, ...loadAgents] = iss.agents as [Agent, ...Agent[]];
    await load("autocannon", server.url, loadAgents, loadClients, 3); // warm-up
    const times: number[] = [];
    let timeouts = 0;
    let errors = 0;
    const end = performance.now() + seconds * 1000;
    const background = load("autocannon", server.url, loadAgents, loadClients, seconds + 1);
    await new Promise((r) => setTimeout(r, 500)); // the load is up before the first probe
    await Promise.all(
      Array.from({ length: probes }, async () => {
        while (performance.now() < end) {
          const r = await probe(server, probeAgent);
          if (r === "timeout") timeouts++;
          else if (r === "error") errors++;
          else times.push(r);
        }
      }),
    );
    const appended = await background;
    times.sort((x, y) => x - y);
    console.log(
      `\nReceipt v2 availability: ms from an append's 201 to GET …/receipt?wait=5 returning kakunin-receipt/2 with its proof (KMS ${latencyMs} ms, ${loadClients} clients appending, ${probes} probes; target ≤ 2,000 ms):`,
    );
    console.log(
      table(
        ["background appends/s", "probes", "median ms", "p95 ms", "max ms", "not within 15 s", "errors"],
        [
          [
            fmt(appended.ok / appended.seconds),
            times.length,
            fmt(percentile(times, 50)),
            fmt(percentile(times, 95)),
            fmt(times[times.length - 1] ?? NaN),
            timeouts,
            errors + appended.errors,
          ],
        ],
      ),
    );
  } finally {
    await server.stop();
    await kms.stop();
  }
}

/**
 * (c) The checker itself: `checkTiles` (what `kakunin-verify tiles` runs) over an in-memory log of
 * `leaves` leaves (tiles built here with node:crypto), no network: hash tiles (and entry bundles)
 * checked per second, i.e. the verifier's hashing, WebCrypto as in the browser.
 */
async function checker(leaves: number): Promise<void> {
  const sha = (...parts: Uint8Array[]) => {
    const h = createHash("sha256");
    for (const p of parts) h.update(p);
    return new Uint8Array(h.digest());
  };
  const entry = (i: number) => new TextEncoder().encode(`{"seq":${i},"bench":"entry ${i}"}`);
  // Level-0 hashes, then each level's hashes as the roots of 256 below (the full tiles one level up).
  const levels: Uint8Array[][] = [Array.from({ length: leaves }, (_, i) => sha(Uint8Array.of(0), entry(i)))];
  while (levels[levels.length - 1]!.length >= 256) {
    const below = levels[levels.length - 1]!;
    const up: Uint8Array[] = [];
    for (let t = 0; t + 256 <= below.length; t += 256) {
      let layer = below.slice(t, t + 256);
      while (layer.length > 1) {
        const next: Uint8Array[] = [];
        for (let i = 0; i < layer.length; i += 2) next.push(sha(Uint8Array.of(1), layer[i]!, layer[i + 1]!));
        layer = next;
      }
      up.push(layer[0]!);
    }
    levels.push(up);
  }
  // RFC 9162 root over the leaves (compact range).
  const stack: { size: number; hash: Uint8Array }[] = [];
  for (const h of levels[0]!) {
    let node = { size: 1, hash: h };
    while (stack.length && stack[stack.length - 1]!.size === node.size) {
      const left = stack.pop()!;
      node = { size: left.size * 2, hash: sha(Uint8Array.of(1), left.hash, node.hash) };
    }
    stack.push(node);
  }
  let root = stack.pop()!.hash;
  while (stack.length) root = sha(Uint8Array.of(1), stack.pop()!.hash, root);
  const key = await logKey("bench.example/tiles");
  const note = await key.signNote(
    formatCheckpoint({ origin: key.name, size: leaves, root: root as Bytes, extensions: [] }),
  );
  const fetchTile = async (path: string) => {
    const t = parseTilePath(path);
    const from = t.index * 256;
    if (t.level === "entries") {
      const parts = Array.from({ length: t.width }, (_, i) => entry(from + i));
      const out = new Uint8Array(parts.reduce((n, p) => n + 2 + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out[at] = p.length >> 8;
        out[at + 1] = p.length & 0xff;
        out.set(p, at + 2);
        at += 2 + p.length;
      }
      return out;
    }
    const hs = levels[t.level]!.slice(from, from + t.width);
    const out = new Uint8Array(hs.length * 32);
    hs.forEach((h, i) => out.set(h, i * 32));
    return out;
  };
  const rows: (string | number)[][] = [];
  const nodeHasher = {
    leaf: (d: Uint8Array) => sha(Uint8Array.of(0), d),
    children: (l: Uint8Array, r: Uint8Array) => sha(Uint8Array.of(1), l, r),
  };
  for (const [hashing, hasher] of [
    ["WebCrypto (browser)", undefined],
    ["node:crypto (CLI)", nodeHasher],
  ] as const)
    for (const entries of [false, true]) {
      const t0 = performance.now();
      const r = await checkTiles({
        fetchTile,
        checkpoint: note,
        logKeys: [key.key],
        entries,
        ...(hasher ? { hasher } : {}),
      });
      const s = (performance.now() - t0) / 1000;
      if (r.verdict !== "PASSED") throw new Error(`checkTiles: ${JSON.stringify(r.problems.slice(0, 3))}`);
      rows.push([
        entries ? "hash tiles + entry bundles" : "hash tiles",
        hashing,
        leaves,
        r.counts.hashTiles + r.counts.entryBundles,
        fmt(s, 2),
        fmt((r.counts.hashTiles + r.counts.entryBundles) / s),
        fmt(leaves / s),
      ]);
    }
  console.log(`\nThe checker (checkTiles, in memory: no network) over a log of ${leaves} leaves:`);
  console.log(table(["what", "hashing", "leaves", "tiles", "seconds", "tiles/s", "leaves/s"], rows));
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string", default: "5" },
      clients: { type: "string", default: "1,16,64" },
      "load-clients": { type: "string", default: "128" },
      latency: { type: "string", default: "15" },
      probes: { type: "string", default: "4" },
      only: { type: "string" },
      leaves: { type: "string", default: "262149" },
    },
  });
  const seconds = Number(values.duration);
  console.log(`machine: ${cores} cores; the load generator, server and KMS processes share them.`);
  if (!values.only || values.only === "serve") await tileServing(seconds, values.clients!.split(",").map(Number));
  if (!values.only || values.only === "checker") await checker(Number(values.leaves));
  if (!values.only || values.only === "receipt")
    await receiptAvailability(
      Math.max(seconds, 10),
      Number(values.latency),
      Number(values["load-clients"]),
      Number(values.probes),
    );
}
