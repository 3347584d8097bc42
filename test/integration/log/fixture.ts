/**
 * Log test fixture: a real local KMS process, a real database (a SQLite file, or a throwaway
 * PostgreSQL database from test/helpers/postgres.ts), the real bootstrap (CA, log key, log signer
 * certificate) and createApp(deps), called through app.request(). Plus helpers to check chains
 * independently: links recomputed here, signatures with the openssl CLI.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import canonicalize from "canonicalize";
import { startLocalKms, type LocalKms, type StartLocalKmsOptions } from "../../helpers/kms.js";
import { createTestDatabase } from "../../helpers/postgres.js";
import { addAgent as addAgentVia, apiClient, setupIssuer as setupIssuerVia, type TestAgent } from "../../helpers/client.js";
import { loadConfig } from "../../../server/config.js";
import { createLogger } from "../../../server/logger.js";
import { startServices, type Services } from "../../../server/bootstrap.js";
import { createApp } from "../../../server/app.js";
import { ZERO_HASH } from "../../../verifier/src/formats/hash.js";

export const OPERATOR_TOKEN = "kkn_op_log-fixture-operator-token-0123456789abcdef";

export interface CallResult { status: number; headers: Headers; text: string; json: any }
export type Call = (method: string, path: string, o?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }) => Promise<CallResult>;

export type DbKind = "sqlite" | "postgres";

/**
 * A database for one suite: SQLite → a file under the data directory (no URL needed);
 * PostgreSQL → a fresh database (`env.DATABASE_URL`), removed by `drop()`.
 */
export async function testDatabase(kind: DbKind): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (kind === "sqlite") return { env: {}, drop: async () => undefined };
  const t = await createTestDatabase();
  return { env: { DATABASE_URL: t.url }, drop: t.drop };
}

export interface LogFixture {
  kind: DbKind;
  /** DATABASE_URL for PostgreSQL, nothing for SQLite: what a second instance on the same database needs. */
  dbEnv: Record<string, string>;
  kms: LocalKms;
  dir: string;
  services: Services;
  call: Call;
  close(): Promise<void>;
}

export async function createLogFixture(opts: { db?: DbKind; kms?: StartLocalKmsOptions; existingKms?: LocalKms; env?: Record<string, string>; kmsMaxAttempts?: number } = {}): Promise<LogFixture> {
  const kind = opts.db ?? "sqlite";
  const kms = opts.existingKms ?? (await startLocalKms(opts.kms ?? {}));
  const dir = await mkdtemp(join(tmpdir(), "kakunin-log-"));
  const database = await testDatabase(kind);
  const config = fixtureConfig(dir, kms, { ...database.env, ...opts.env });
  let services: Services;
  try {
    services = await startServices(config, createLogger("silent"), { kms: kms.client({ maxAttempts: opts.kmsMaxAttempts ?? 1 }) });
  } catch (e) {
    await database.drop();
    if (!opts.existingKms) await kms.stop();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    kind, dbEnv: database.env, kms, dir, services, call: appCaller(createApp(services.deps)),
    close: async () => {
      await services.deps.log?.close();
      await services.close();
      await database.drop();
      if (!opts.existingKms) await kms.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function fixtureConfig(dir: string, kms: LocalKms, env: Record<string, string | undefined>) {
  return loadConfig({
    DATA_DIR: dir, KMS_ENDPOINT: kms.endpoint, KAKUNIN_OPERATOR_TOKEN: OPERATOR_TOKEN,
    KAKUNIN_PUBLIC_URL: "http://kakunin.test", KAKUNIN_SCHEDULER_INTERVAL_MS: "0", ...env,
  });
}

/**
 * A second service instance on the fixture's database (same SQLite file or same DATABASE_URL) and
 * KMS — what a second server process would be — called through its own app.
 */
export async function startSecondInstance(fx: LogFixture): Promise<{ services: Services; call: Call; close(): Promise<void> }> {
  const services = await startServices(fixtureConfig(fx.dir, fx.kms, fx.dbEnv), createLogger("silent"), { kms: fx.kms.client({ maxAttempts: 1 }) });
  return {
    services,
    call: appCaller(createApp(services.deps)),
    async close() {
      await services.deps.log?.close();
      await services.close();
    },
  };
}

/** In process, through `app.request()`. */
export function appCaller(app: ReturnType<typeof createApp>): Call {
  return async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    return parse(await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) }));
  };
}

export async function parse(res: Response): Promise<CallResult> {
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** Over HTTP (fetch) against a running server. */
export function httpCaller(baseUrl: string): Call {
  return async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    return parse(await fetch(baseUrl + path, { method, headers, ...(body !== undefined ? { body } : {}) }));
  };
}

/**
 * A Call as a fetch function, so the typed client (test/helpers/client.ts) can drive any Call's
 * target. Only what every Call takes goes through: the bearer token and a JSON body.
 */
function callFetch(call: Call) {
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const text = request.method === "GET" || request.method === "HEAD" ? "" : await request.text();
    const token = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
    const r = await call(request.method, url.pathname + url.search, { ...(token ? { token } : {}), ...(text ? { body: JSON.parse(text) } : {}) });
    return new Response(r.text || null, { status: r.status, headers: r.headers });
  };
}

/** Operator → issuer → `n` agents, each with an agent token (setup through the typed client; 503s retried). */
export async function setupIssuer(call: Call, operatorToken: string, n: number, name = "Acme Robotics") {
  const iss = await setupIssuerVia(callFetch(call), operatorToken, n, name);
  return { issuerId: iss.id, issuerToken: iss.token, agents: iss.agents };
}

export async function addAgent(call: Call, issuerToken: string, name: string): Promise<TestAgent> {
  return addAgentVia(apiClient(callFetch(call), issuerToken, { retries: 3 }), name);
}

/** Parse an NDJSON export. */
export function parseExport(text: string) {
  const lines = text.split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
  return {
    lines,
    header: lines[0],
    certificates: lines.filter((l) => l.kind === "certificate"),
    crl: lines.find((l) => l.kind === "crl"),
    entries: lines.filter((l) => l.kind === "entry").map((l) => l.entry),
    payloads: lines.filter((l) => l.kind === "payload"),
    checkpoint: lines.find((l) => l.kind === "checkpoint")?.checkpoint,
  };
}

export function jcs(value: unknown): Buffer {
  return Buffer.from(canonicalize(value)!, "utf8");
}

export function withoutHashSig(e: Record<string, unknown>): Record<string, unknown> {
  const { hash: _h, sig: _s, ...rest } = e;
  return rest;
}

/** Recompute hashes and links independently; returns problems (empty = the chain links). */
export function chainProblems(entries: any[], from = 0, prev = ZERO_HASH): string[] {
  const problems: string[] = [];
  entries.forEach((e, i) => {
    if (e.seq !== from + i) problems.push(`seq ${e.seq} at position ${i} (expected ${from + i})`);
    if (e.prevHash !== prev) problems.push(`seq ${e.seq}: prevHash does not link`);
    const h = createHash("sha256").update(jcs(withoutHashSig(e))).digest("hex");
    if (h !== e.hash) problems.push(`seq ${e.seq}: hash mismatch`);
    prev = e.hash;
  });
  return problems;
}

/**
 * Verify signatures with the openssl CLI over each object's RFC 8785 bytes (without hash/sig for
 * entries, without sig for checkpoints), using the public key extracted from the signer's
 * certificate (`openssl x509 -pubkey`). Returns the seqs/indices that did NOT verify.
 */
export function opensslVerifyAll(objects: { id: string | number; jcs: Buffer; sig: string; certPem: string }[]): (string | number)[] {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-log-openssl-"));
  try {
    const pubs = new Map<string, string>();
    let script = "set -u\n";
    objects.forEach((o, i) => {
      let pub = pubs.get(o.certPem);
      if (!pub) {
        pub = `pub${pubs.size}.pem`;
        writeFileSync(join(dir, `cert${pubs.size}.pem`), o.certPem);
        execFileSync("openssl", ["x509", "-pubkey", "-noout", "-in", `cert${pubs.size}.pem`, "-out", pub], { cwd: dir });
        pubs.set(o.certPem, pub);
      }
      writeFileSync(join(dir, `m${i}.jcs`), o.jcs);
      writeFileSync(join(dir, `s${i}.bin`), Buffer.from(o.sig, "base64"));
      script += `openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify ${pub} -signature s${i}.bin m${i}.jcs >/dev/null 2>&1 && echo "OK ${i}" || echo "BAD ${i}"\n`;
    });
    writeFileSync(join(dir, "run.sh"), script);
    const r = spawnSync("sh", ["run.sh"], { cwd: dir, encoding: "utf8", maxBuffer: 64 << 20 });
    const ok = new Set(r.stdout.split("\n").filter((l) => l.startsWith("OK ")).map((l) => Number(l.slice(3))));
    return objects.filter((_, i) => !ok.has(i)).map((o) => o.id);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** openssl-verify every entry of a parsed export against the certificate its signer names. */
export function opensslVerifyExport(exp: ReturnType<typeof parseExport>): (string | number)[] {
  const pemBySerial = new Map<string, string>(exp.certificates.map((c: any) => [c.serial, c.pem]));
  const objs = exp.entries.map((e: any) => ({ id: e.seq, jcs: jcs(withoutHashSig(e)), sig: e.sig, certPem: pemBySerial.get(e.signer.cert) ?? "" }));
  if (exp.checkpoint) {
    const { sig, ...rest } = exp.checkpoint;
    objs.push({ id: "checkpoint", jcs: jcs(rest), sig, certPem: pemBySerial.get(exp.checkpoint.signer.cert) ?? "" });
  }
  return opensslVerifyAll(objs);
}

export function caPem(services: Services): string {
  return services.deps.ca.certificatePem;
}
