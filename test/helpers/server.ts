import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KAKUNIN_") && !k.startsWith("KMS_") && k !== "DATABASE_URL" && k !== "PORT"));
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
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "server", "main.ts")], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const log = createWriteStream(logPath);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    function fail(why: string) {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`Kakunin server ${why}\nstdout:\n${out}\nstderr:\n${err}`));
    }
    const onExit = (code: number | null, signal: string | null) => fail(`exited early (code ${code}, signal ${signal})`);
    child.once("exit", onExit);
    child.stderr!.setEncoding("utf8").on("data", (c: string) => { err += c; });
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      const m = /Kakunin API listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeListener("exit", onExit);
        resolve(m[1]!);
      }
    });
  });

  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    await new Promise<void>((r) => log.end(r));
  };
  return { url, pid: child.pid!, operatorToken, dataDir, logPath, stop: () => stopWith("SIGTERM"), kill: () => stopWith("SIGKILL") };
}
