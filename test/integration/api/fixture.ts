/** In-process fixture: a real local KMS process, a real SQLite file, the real CA, createApp(deps). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { loadConfig } from "../../../server/config.js";
import { createLogger } from "../../../server/logger.js";
import { startServices, type Services } from "../../../server/bootstrap.js";
import { createApp } from "../../../server/app.js";

export interface Fixture {
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

export async function createFixture(opts: { kms?: LocalKms; env?: Record<string, string> } = {}): Promise<Fixture> {
  const kms = opts.kms ?? (await startLocalKms());
  const dir = await mkdtemp(join(tmpdir(), "kakunin-api-"));
  const config = configFor(dir, kms.endpoint, opts.env);
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
    kms, dir, services, app, operatorToken: OPERATOR_TOKEN, call,
    close: async () => {
      await services.close();
      if (!opts.kms) await kms.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
