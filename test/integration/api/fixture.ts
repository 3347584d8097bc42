/**
 * In-process fixture: a real local KMS process, a real database (a SQLite file, or a throwaway
 * PostgreSQL database from test/helpers/postgres.ts), the real CA, createApp(deps).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { createTestDatabase } from "../../helpers/postgres.js";
import { loadConfig } from "../../../server/config.js";
import { createLogger } from "../../../server/logger.js";
import { startServices, type Services } from "../../../server/bootstrap.js";
import { createApp } from "../../../server/app.js";

export type DbKind = "sqlite" | "postgres";

/** A database for one suite: SQLite → a file under `dir` (no URL needed); PostgreSQL → a fresh database. */
export async function testDatabase(kind: DbKind): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (kind === "sqlite") return { env: {}, drop: async () => undefined };
  const t = await createTestDatabase();
  return { env: { DATABASE_URL: t.url }, drop: t.drop };
}

export interface Fixture {
  kind: DbKind;
  kms: LocalKms;
  dir: string;
  services: Services;
  app: ReturnType<typeof createApp>;
  operatorToken: string;
  call(method: string, path: string, opts?: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; text: string; json: any }>;
  close(): Promise<void>;
}

export const OPERATOR_TOKEN = "kkn_op_fixture-operator-token-0123456789abcdef";

export function configFor(dir: string, kmsEndpoint: string, extra: Record<string, string> = {}) {
  return loadConfig({
    DATA_DIR: dir, KMS_ENDPOINT: kmsEndpoint, KAKUNIN_OPERATOR_TOKEN: OPERATOR_TOKEN,
    KAKUNIN_PUBLIC_URL: "http://kakunin.test", KAKUNIN_SCHEDULER_INTERVAL_MS: "0", ...extra,
  });
}

export async function createFixture(opts: { kms?: LocalKms; env?: Record<string, string>; db?: DbKind } = {}): Promise<Fixture> {
  const kind = opts.db ?? "sqlite";
  const kms = opts.kms ?? (await startLocalKms());
  const dir = await mkdtemp(join(tmpdir(), "kakunin-api-"));
  const database = await testDatabase(kind);
  const config = configFor(dir, kms.endpoint, { ...database.env, ...opts.env });
  const services = await startServices(config, createLogger("silent"), { kms: kms.client({ maxAttempts: 1 }) });
  const app = createApp(services.deps);
  const call: Fixture["call"] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, json };
  };
  return {
    kind, kms, dir, services, app, operatorToken: OPERATOR_TOKEN, call,
    close: async () => {
      await services.close();
      await database.drop();
      if (!opts.kms) await kms.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
