import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startDaemon } from "./process.js";

/**
 * Starts the Kakunin API (server/main.ts) as a real child process. KAKUNIN_OPERATOR_TOKEN is set so
 * the test knows it (it is never printed); stdout and stderr go to `logPath` (the secrets scan reads it).
 */
export interface RunningServer {
  url: string;
  /** The server process's pid (e.g. to read its RSS from /proc). */
  pid: number;
  operatorToken: string;
  dataDir: string;
  logPath: string;
  /** SIGTERM and wait for exit (graceful). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (crash). */
  kill(): Promise<void>;
}

export interface StartServerOptions {
  kmsEndpoint: string;
  dataDir?: string;
  env?: Record<string, string>;
  operatorToken?: string;
}

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const START_TIMEOUT_MS = 60_000;

export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), "kakunin-server-")));
  const logPath = join(dataDir, `server-${Date.now()}-${randomBytes(3).toString("hex")}.log`);
  const operatorToken = opts.operatorToken ?? `kkn_op_${randomBytes(32).toString("base64url")}`;
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith("KAKUNIN_") && !k.startsWith("KMS_") && k !== "DATABASE_URL" && k !== "PORT",
    ),
  );
  const env: Record<string, string> = {
    ...(base as Record<string, string>),
    DATA_DIR: dataDir,
    KMS_ENDPOINT: opts.kmsEndpoint,
    HOST: "127.0.0.1",
    PORT: "0",
    KAKUNIN_PUBLIC_URL: "http://kakunin.test",
    KAKUNIN_SCHEDULER_INTERVAL_MS: "0",
    KAKUNIN_OPERATOR_TOKEN: operatorToken,
    LOG_LEVEL: "info",
    AWS_MAX_ATTEMPTS: "1",
    // Suites share two cores with other suites' KMS processes, where a burst of RSA signing can take
    // seconds: generous KMS deadlines unless a suite tests them (faults-kms sets its own).
    KAKUNIN_KMS_CALL_TIMEOUT_MS: "15000",
    KAKUNIN_REQUEST_DEADLINE_MS: "30000",
    ...opts.env,
  };
  const log = createWriteStream(logPath);
  const server = await startDaemon(process.execPath, ["--import", "tsx", join(REPO_ROOT, "server", "main.ts")], {
    name: "Kakunin server",
    cwd: REPO_ROOT,
    env,
    timeoutMs: START_TIMEOUT_MS,
    ready: (stdout) => /Kakunin API listening on (http:\/\/\S+)/.exec(stdout)?.[1],
    onSpawn: (child) => {
      child.stdout!.pipe(log, { end: false });
      child.stderr!.pipe(log, { end: false });
    },
  });
  const stopWith = async (signal: NodeJS.Signals) => {
    await server.stop(signal);
    await new Promise<void>((r) => log.end(r));
  };
  return {
    url: server.ready,
    pid: server.pid,
    operatorToken,
    dataDir,
    logPath,
    stop: () => stopWith("SIGTERM"),
    kill: () => stopWith("SIGKILL"),
  };
}
