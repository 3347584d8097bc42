/**
 * @kakunin/client for tests and benchmarks: ordinary setup and ordinary API steps go through the
 * typed client (problem+json answers arrive as KakuninApiError with `code` and `status`) instead of
 * each suite's own fetch wrapper. What a test sends on purpose as raw bytes, or the raw HTTP it
 * checks (status of malformed input, connection handling), stays with fetch or raw-http.ts.
 */
import { createKakuninClient, KakuninApiError, type KakuninClient } from "@kakunin/client";

type FetchFn = (request: Request) => Response | Promise<Response>;

/**
 * Where requests go: a base URL, anything with a `url` (a RunningServer; with `fetch`, sent through
 * it, e.g. to record responses), or a fetch function — e.g. `(r) => app.request(r)` in process.
 */
export type ApiTarget = string | { url: string; fetch?: FetchFn } | FetchFn;

export interface ApiClientOptions {
  /** 429/503 retries (default 0: a test that provokes a 503 must see it, not a retried success). */
  retries?: number;
}

function fetchOf(target: ApiTarget): { baseUrl: string; fetch?: typeof fetch } {
  if (typeof target === "string") return { baseUrl: target };
  const via = typeof target === "function" ? target : target.fetch;
  return {
    baseUrl: typeof target === "function" ? "http://in-process.test" : target.url,
    ...(via ? { fetch: (async (r: Request) => via(r)) as typeof fetch } : {}),
  };
}

/** A typed client for `target` with `token` (none: the public routes). */
export function apiClient(target: ApiTarget, token?: string, opts: ApiClientOptions = {}): KakuninClient {
  return createKakuninClient({
    ...fetchOf(target),
    ...(token ? { token } : {}),
    retry: { retries: opts.retries ?? 0 },
  });
}

/** The KakuninApiError `call` fails with; anything else (or success) fails the test. */
export async function apiError(call: Promise<unknown>): Promise<KakuninApiError> {
  try {
    await call;
  } catch (e) {
    if (e instanceof KakuninApiError) return e;
    throw e;
  }
  throw new Error("expected the call to fail with a KakuninApiError, but it succeeded");
}

/** One call's result or error together with the HTTP answer it came in, for checks on headers. */
export interface Answer<T> {
  status: number;
  headers: Headers;
  value: T | undefined;
  error: KakuninApiError | undefined;
  /** Wall time of the call, in ms (printed or bounded by fault tests, never asserted as speed). */
  ms: number;
}

/** Runs `call` on a fresh client for `target` and keeps the response (its body is already read). */
export async function answer<T>(
  target: ApiTarget,
  token: string | undefined,
  call: (c: KakuninClient) => Promise<T>,
): Promise<Answer<T>> {
  const { baseUrl, fetch: inner = globalThis.fetch } = fetchOf(target);
  let response: Response | undefined;
  const recording = (async (r: Request) => (response = await inner(r))) as typeof fetch;
  const client = createKakuninClient({ baseUrl, fetch: recording, ...(token ? { token } : {}), retry: { retries: 0 } });
  const started = performance.now();
  let value: T | undefined;
  let error: KakuninApiError | undefined;
  try {
    value = await call(client);
  } catch (e) {
    if (!(e instanceof KakuninApiError) || e.code === "ERR_NETWORK") throw e;
    error = e;
  }
  if (!response) throw new Error("the call sent no request");
  return { status: response.status, headers: response.headers, value, error, ms: performance.now() - started };
}

/** The NDJSON of an export stream as text. */
export async function streamText(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

export interface TestAgent {
  id: string;
  token: string;
  serial: string;
  pem: string;
}
export interface TestIssuer {
  id: string;
  token: string;
  client: KakuninClient;
  agents: TestAgent[];
}

/**
 * Operator → issuer `name` → `n` agents (`${prefix}-${i}`), each with an agent token. Setup retries
 * 503s (slow RSA key generation on a loaded machine) as a client should, honouring Retry-After.
 */
export async function setupIssuer(
  target: ApiTarget,
  operatorToken: string,
  n: number,
  name = "Acme Robotics",
  prefix = "agent",
): Promise<TestIssuer> {
  const iss = await apiClient(target, operatorToken, { retries: 3 }).createIssuer(name);
  const client = apiClient(target, iss.token, { retries: 3 });
  const agents: TestAgent[] = [];
  for (let i = 0; i < n; i++) agents.push(await addAgent(client, `${prefix}-${i}`));
  return { id: iss.id, token: iss.token, client: apiClient(target, iss.token), agents };
}

/** Registers agent `name` with `issuer` and gives it a token. */
export async function addAgent(issuer: KakuninClient, name: string): Promise<TestAgent> {
  const ag = await issuer.createAgent(name);
  const { token } = await issuer.createAgentToken(ag.id);
  return { id: ag.id, token, serial: ag.certificate.serial, pem: ag.certificate.pem };
}
