/**
 * Several real server processes (server/main.ts) on one PostgreSQL database and one local KMS
 * process — what a deployment behind a load balancer looks like. PostgreSQL-only.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startLocalKms, type LocalKms, type StartLocalKmsOptions } from "../../helpers/kms.js";
import { createTestDatabase } from "../../helpers/postgres.js";
import { runProcess, type ProcessResult } from "../../helpers/process.js";
import { startServer, type RunningServer } from "../../helpers/server.js";

export interface Cluster {
  kms: LocalKms;
  databaseUrl: string;
  operatorToken: string;
  /** shared DATA_DIR parent; each instance has its own data dir, the witness dir is shared */
  dir: string;
  witnessDir: string;
  servers: RunningServer[];
  /** Start one more instance (or restart one) on the same database, KMS and witness. */
  start(env?: Record<string, string>): Promise<RunningServer>;
  query<T = any>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export async function startCluster(
  n: number,
  opts: { kms?: StartLocalKmsOptions; env?: Record<string, string> } = {},
): Promise<Cluster> {
  const kms = await startLocalKms(opts.kms ?? {});
  const database = await createTestDatabase();
  const dir = await mkdtemp(join(tmpdir(), "kakunin-cluster-"));
  const witnessDir = join(dir, "witness");
  const operatorToken = `kkn_op_${randomBytes(32).toString("base64url")}`;
  const servers: RunningServer[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const dataDir = await mkdtemp(join(dir, "instance-"));
    const s = await startServer({
      kmsEndpoint: kms.endpoint,
      dataDir,
      operatorToken,
      env: { DATABASE_URL: database.url, KAKUNIN_WITNESS_DIR: witnessDir, LOG_LEVEL: "warn", ...opts.env, ...env },
    });
    servers.push(s);
    return s;
  };
  // All at the same moment: a fresh database and a fresh KMS (migrations and bootstrap race).
  try {
    await Promise.all(Array.from({ length: n }, () => start()));
  } catch (e) {
    await Promise.all(servers.map((s) => s.kill()));
    await kms.stop();
    await database.drop();
    throw e;
  }
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  return {
    kms,
    databaseUrl: database.url,
    operatorToken,
    dir,
    witnessDir,
    servers,
    start,
    async query(text, params = []) {
      return (await pool.query(text, params as unknown[])).rows;
    },
    async close() {
      await Promise.all(servers.map((s) => s.stop()));
      await pool.end();
      await kms.stop();
      await database.drop();
    },
  };
}

/** Run the auditor's CLI (verifier/bin/kakunin-verify.js log <export> --ca <ca.pem>) as a child process. */
export function kakuninVerify(dir: string, exportText: string, caPem: string): Promise<ProcessResult> {
  const exportPath = join(dir, `export-${Date.now()}-${randomBytes(3).toString("hex")}.ndjson`);
  const caPath = join(dir, "ca.pem");
  writeFileSync(exportPath, exportText);
  writeFileSync(caPath, caPem);
  return runProcess(
    process.execPath,
    [join(REPO_ROOT, "verifier", "bin", "kakunin-verify.js"), "log", exportPath, "--ca", caPath],
    { cwd: REPO_ROOT },
  );
}
