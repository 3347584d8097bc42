/**
 * The real stack the portal e2e tests (and the portal bench) run against: local KMS + API server,
 * an issuer with agents in every interesting state, receipts, an export, and the portal built with
 * the resulting directory into a temp dir and served by scripts/serve-site.ts.
 */
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalKms, type LocalKms } from "../helpers/kms.js";
import { startServer, type RunningServer } from "../helpers/server.js";
import { exportDirectory } from "../../scripts/export-directory.js";
import { serveSite, type SiteServer } from "../../scripts/serve-site.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type Json = Record<string, any>;

export class Api {
  constructor(readonly url: string) {}
  async call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
  ): Promise<{ status: number; json: Json; text: string }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: Json = {};
    try {
      json = JSON.parse(text);
    } catch {
      /* NDJSON or empty */
    }
    return { status: res.status, json, text };
  }
  async ok(method: string, path: string, token: string, body?: unknown): Promise<Json> {
    const r = await this.call(method, path, token, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status}: ${r.text.slice(0, 500)}`);
    return r.json;
  }
}

const VITEST_ENV = new Set(["MODE", "DEV", "PROD", "SSR", "BASE_URL", "TEST", "NODE_ENV"]);

export interface BuildOptions {
  /** a file, or "none" for the empty fallback */ directoryFile: string;
  outDir: string;
  apiUrl?: string;
  /** More build-time settings (e.g. KAKUNIN_PORTAL_POLICY_FILE). */
  env?: Record<string, string>;
}

/**
 * Runs `astro build` with the given directory file into outDir. Astro stages a build whose outDir
 * lies outside the working directory in `<cwd>/.astro/`, one place for every build: suites building
 * at the same time would overwrite each other's pages (one suite's pinned CA in another's portal).
 * So each build writes to its own directory under test-results/ (inside the repository, where the
 * staged server chunks resolve node_modules) and is then moved to outDir.
 */
export async function buildPortal(opts: BuildOptions): Promise<string> {
  const stageRoot = join(ROOT, "test-results");
  await mkdir(stageRoot, { recursive: true });
  const stage = await mkdtemp(join(stageRoot, "portal-build-"));
  try {
    const out = await astroBuild({ ...opts, outDir: stage });
    await rm(opts.outDir, { recursive: true, force: true });
    await cp(stage, opts.outDir, { recursive: true });
    return out;
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

function astroBuild(opts: BuildOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "node_modules/astro/astro.js"), "build"], {
      cwd: ROOT,
      env: {
        // Not vitest's import.meta.env mirror (MODE, DEV, PROD, SSR, BASE_URL, TEST, NODE_ENV=test):
        // Astro would read them and build a non-production site (no CSP meta, wrong base).
        ...Object.fromEntries(
          Object.entries(process.env).filter(([k]) => !VITEST_ENV.has(k) && !k.startsWith("VITEST")),
        ),
        ASTRO_TELEMETRY_DISABLED: "1",
        NODE_ENV: "production",
        KAKUNIN_DIRECTORY_FILE: opts.directoryFile,
        KAKUNIN_PORTAL_OUT_DIR: opts.outDir,
        KAKUNIN_API_URL: opts.apiUrl ?? "",
        ...opts.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (c) => (out += c));
    child.stderr!.on("data", (c) => (out += c));
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`astro build failed (${code}):\n${out}`)),
    );
  });
}

export interface PortalStack {
  kms: LocalKms;
  server: RunningServer;
  api: Api;
  site: SiteServer;
  tmp: string;
  buildOutput: string;
  issuer: { id: string; name: string; token: string };
  agents: { fresh: Json; rotated: Json; revoked: Json };
  receipts: { fresh: Json; beforeRotation: Json; afterRotation: Json; revoked: Json };
  /** Status and body of the operation attempted after revocation. */
  afterRevoke: { status: number; json: Json };
  exportText: string;
  directory: Json;
  close(): Promise<void>;
}

export async function startPortalStack(opts: { apiUrlInBuild?: boolean } = {}): Promise<PortalStack> {
  const tmp = await mkdtemp(join(tmpdir(), "kakunin-portal-e2e-"));
  const kms = await startLocalKms();
  let server: RunningServer | undefined;
  let site: SiteServer | undefined;
  try {
    server = await startServer({ kmsEndpoint: kms.endpoint });
    const api = new Api(server.url);
    const issuer = (await api.ok("POST", "/v1/issuers", server.operatorToken, {
      name: "Acme Insurance",
    })) as PortalStack["issuer"];
    const t = issuer.token;
    const fresh = await api.ok("POST", "/v1/agents", t, { name: "claims-assistant" });
    const rotated = await api.ok("POST", "/v1/agents", t, { name: "underwriting-bot" });
    const revoked = await api.ok("POST", "/v1/agents", t, { name: "payments-bot" });

    const sign = (id: string, payload: unknown) => api.ok("POST", `/v1/agents/${id}/operations`, t, { payload });
    const beforeRotation = await sign(rotated.id, { action: "quote", customer: "C-1001", premium: 412.5 });
    const revokedReceipt = await sign(revoked.id, { action: "refund", amount: 99.99, currency: "EUR" });
    await api.ok("POST", `/v1/agents/${rotated.id}/rotate`, t, {});
    const afterRotation = await sign(rotated.id, { action: "quote", customer: "C-1002", premium: 380 });
    await api.ok("POST", `/v1/agents/${revoked.id}/revoke`, t, { reason: "keyCompromise" });
    const afterRevoke = await api.call("POST", `/v1/agents/${revoked.id}/operations`, t, {
      payload: { action: "refund", amount: 1 },
    });
    const freshReceipt = await sign(fresh.id, { claim: "CLM-2026-0042", decision: "approve", amount: 1250 });
    for (let i = 0; i < 3; i++) await sign(fresh.id, { claim: `CLM-2026-01${i}`, decision: "review" });

    const exp = await api.call("GET", "/v1/log/export", t);
    if (exp.status !== 200) throw new Error(`export → ${exp.status}: ${exp.text.slice(0, 300)}`);

    const directoryFile = join(tmp, "directory.json");
    await exportDirectory({ api: server.url, out: directoryFile });
    const directory = JSON.parse(await (await import("node:fs/promises")).readFile(directoryFile, "utf8"));
    const outDir = join(tmp, "dist");
    const buildOutput = await buildPortal({
      directoryFile,
      outDir,
      ...(opts.apiUrlInBuild ? { apiUrl: server.url } : {}),
    });
    site = await serveSite({ dir: outDir, port: 0, host: "127.0.0.1" });

    const s = server;
    const st = site;
    return {
      kms,
      server,
      api,
      site,
      tmp,
      buildOutput,
      issuer,
      agents: { fresh, rotated, revoked },
      receipts: { fresh: freshReceipt, beforeRotation, afterRotation, revoked: revokedReceipt },
      afterRevoke: { status: afterRevoke.status, json: afterRevoke.json },
      exportText: exp.text,
      directory,
      close: async () => {
        await st.close().catch(() => {});
        await s.stop().catch(() => {});
        await kms.stop().catch(() => {});
        await rm(tmp, { recursive: true, force: true }).catch(() => {});
      },
    };
  } catch (e) {
    await site?.close().catch(() => {});
    await server?.stop().catch(() => {});
    await kms.stop().catch(() => {});
    throw e;
  }
}
