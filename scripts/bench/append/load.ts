/** The append benchmark's load generators: autocannon (default) or node:http keep-alive clients. */
import http from "node:http";
import autocannon from "autocannon";
import { percentile } from "../lib.js";

export interface Row {
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
export type LoadResult = Pick<Row, "clients" | "ok" | "errors" | "seconds" | "p50" | "p99">;

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

export type LoadGenerator = "autocannon" | "http";

/** `clients` keep-alive clients posting operations for `seconds`, round-robin over `agents`. */
export const load = (
  kind: LoadGenerator,
  baseUrl: string,
  agents: { id: string; token: string }[],
  clients: number,
  seconds: number,
) => (kind === "autocannon" ? loadAutocannon : loadHttp)(baseUrl, agents, clients, seconds);
