/**
 * The API in process, for integration suites: a real local KMS process (the suite's own, or one it
 * shares), a real database (a SQLite file in a fresh data directory, or a throwaway PostgreSQL
 * database), the real start-up (`startServices`: migrations, CA and log keys, the audit log) and
 * `createApp`, called through `app.request()` — or the same calls over HTTP to a running server.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../server/app.js";
import { startServices, type Services } from "../../server/bootstrap.js";
import { loadConfig, type Config } from "../../server/config.js";
import { createLogger } from "../../server/logger.js";
import { addAgent as addAgentVia, apiClient, setupIssuer as setupIssuerVia, type TestAgent } from "./client.js";
import { testDatabase, type DbKind } from "./database.js";
import { startLocalKms, type LocalKms, type StartLocalKmsOptions } from "./kms.js";

/** The operator token every in-process instance is configured with (KAKUNIN_OPERATOR_TOKEN). */
export const TEST_OPERATOR_TOKEN = "kkn_op_fixture-operator-token-0123456789abcdef";

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}
export type Call = (
  method: string,
  path: string,
  o?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> },
) => Promise<CallResult>;

/** The configuration of a test instance: `dir` as DATA_DIR, the local KMS, no scheduler, a fixed operator token. */
export function testConfig(dir: string, kmsEndpoint: string, env: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    DATA_DIR: dir,
    KMS_ENDPOINT: kmsEndpoint,
    KAKUNIN_OPERATOR_TOKEN: TEST_OPERATOR_TOKEN,
    KAKUNIN_PUBLIC_URL: "http://kakunin.test",
    KAKUNIN_SCHEDULER_INTERVAL_MS: "0",
    ...env,
  });
}

export async function parseResponse(res: Response): Promise<CallResult> {
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function request(o: Parameters<Call>[2] = {}): { headers: Record<string, string>; body?: string } {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  return body === undefined ? { headers } : { headers, body };
}

/** In process, through `app.request()`. */
export function appCaller(app: ReturnType<typeof createApp>): Call {
  return async (method, path, o) => parseResponse(await app.request(path, { method, ...request(o) }));
}

/** Over HTTP (fetch) against a running server. */
export function httpCaller(baseUrl: string): Call {
  return async (method, path, o) => parseResponse(await fetch(baseUrl + path, { method, ...request(o) }));
}

/**
 * A Call as a fetch function, so the typed client (test/helpers/client.ts) can drive any Call's
 * target. Only what every Call takes goes through: the bearer token and a JSON body.
 */
export function callFetch(call: Call) {
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const text = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
    const token = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    const r = await call(req.method, url.pathname + url.search, {
      ...(token ? { token } : {}),
      ...(text ? { body: JSON.parse(text) } : {}),
    });
    return new Response(r.text || null, { status: r.status, headers: r.headers });
  };
}

/** Operator → issuer → `n` agents, each with an agent token (setup through the typed client; 503s retried). */
export async function setupIssuer(call: Call, operatorToken: string, n: number, name = "Acme Robotics") {
  const iss = await setupIssuerVia(callFetch(call), operatorToken, n, name);
  return { issuerId: iss.id, issuerToken: iss.token, agents: iss.agents };
}

/** Registers agent `name` with the issuer of `issuerToken` and gives it a token. */
export async function addAgent(call: Call, issuerToken: string, name: string): Promise<TestAgent> {
  return addAgentVia(apiClient(callFetch(call), issuerToken, { retries: 3 }), name);
}

export interface InProcessApi {
  kind: DbKind;
  /** DATABASE_URL for PostgreSQL, nothing for SQLite: what a second instance on the same database needs. */
  dbEnv: Record<string, string>;
  kms: LocalKms;
  /** The instance's DATA_DIR (the SQLite database, the fork-guard files); removed by close(). */
  dir: string;
  services: Services;
  app: ReturnType<typeof createApp>;
  operatorToken: string;
  call: Call;
  /** Drains the audit log, closes the services, drops the database, stops an own KMS, removes `dir`. */
  close(): Promise<void>;
}

export interface InProcessApiOptions {
  db?: DbKind;
  /** A running local KMS to share (left running by close()), or options for the instance's own. */
  kms?: LocalKms | StartLocalKmsOptions;
  /** More environment for loadConfig (e.g. KAKUNIN_BODY_LIMIT). */
  env?: Record<string, string>;
  /** The KMS client's maxAttempts (default 1: a fault test must see the fault, not an SDK retry). */
  kmsMaxAttempts?: number;
}

const isLocalKms = (k: InProcessApiOptions["kms"]): k is LocalKms => k !== undefined && "endpoint" in k;

export async function startInProcessApi(opts: InProcessApiOptions = {}): Promise<InProcessApi> {
  const kind = opts.db ?? "sqlite";
  const ownKms = !isLocalKms(opts.kms);
  const kms = isLocalKms(opts.kms) ? opts.kms : await startLocalKms(opts.kms ?? {});
  const dir = await mkdtemp(join(tmpdir(), "kakunin-app-"));
  let database: Awaited<ReturnType<typeof testDatabase>> | undefined;
  const cleanUp = async () => {
    await database?.drop();
    if (ownKms) await kms.stop();
    await rm(dir, { recursive: true, force: true });
  };
  let services: Services;
  try {
    database = await testDatabase(kind);
    const config = testConfig(dir, kms.endpoint, { ...database.env, ...opts.env });
    services = await startServices(config, createLogger("silent"), {
      kms: kms.client({ maxAttempts: opts.kmsMaxAttempts ?? 1 }),
    });
  } catch (e) {
    await cleanUp();
    throw e;
  }
  const app = createApp(services.deps);
  return {
    kind,
    dbEnv: database.env,
    kms,
    dir,
    services,
    app,
    operatorToken: TEST_OPERATOR_TOKEN,
    call: appCaller(app),
    close: async () => {
      await services.deps.log?.close();
      await services.close();
      await cleanUp();
    },
  };
}

/**
 * A second service instance on `api`'s database (same SQLite file or same DATABASE_URL) and KMS —
 * what a second server process would be — called through its own app.
 */
export async function startSecondInstance(
  api: Pick<InProcessApi, "dir" | "kms" | "dbEnv">,
  /** More environment, as startInProcessApi's `env` (e.g. KAKUNIN_CLOUDTRAIL). */
  env: Record<string, string> = {},
): Promise<{ services: Services; call: Call; close(): Promise<void> }> {
  const config = testConfig(api.dir, api.kms.endpoint, { ...api.dbEnv, ...env });
  const services = await startServices(config, createLogger("silent"), {
    kms: api.kms.client({ maxAttempts: 1 }),
  });
  return {
    services,
    call: appCaller(createApp(services.deps)),
    async close() {
      await services.deps.log?.close();
      await services.close();
    },
  };
}
