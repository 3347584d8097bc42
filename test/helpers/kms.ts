import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KMSClient, type KMSClientConfig } from "@aws-sdk/client-kms";

/**
 * Starts the local KMS (scripts/kms/main.ts) as a real child process for integration tests.
 * Every suite talks to it only through @aws-sdk/client-kms.
 */
export interface LocalKms {
  endpoint: string;
  dataDir: string;
  accessLogPath: string;
  region: string;
  /** The local KMS process id (tests stop it with SIGSTOP to make KMS hang). */
  pid: number;
  /** A client for this server: endpoint, region and dummy credentials (AKIDLOCALTEST / local). */
  client(overrides?: Partial<KMSClientConfig>): KMSClient;
  /** SIGTERM and wait for exit (graceful: the access log is flushed). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (simulates a crash). */
  kill(): Promise<void>;
}

export interface StartLocalKmsOptions {
  dataDir?: string;
  latencyMs?: number;
  jitterMs?: number;
  throttleRate?: number;
  faultRate?: number;
  port?: number;
}

export const LOCAL_KMS_ACCESS_KEY_ID = "AKIDLOCALTEST";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(REPO_ROOT, "scripts", "kms", "main.ts");
const REGION = "eu-west-1";
const START_TIMEOUT_MS = 30_000;

export class LocalKmsStartError extends Error {
  readonly code = "LOCAL_KMS_START_FAILED";
}

export async function startLocalKms(opts: StartLocalKmsOptions = {}): Promise<LocalKms> {
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), "kakunin-kms-")));
  const accessLogPath = join(dataDir, "cloudtrail.jsonl");
  const args = ["--import", "tsx", MAIN, "--port", String(opts.port ?? 0), "--data-dir", dataDir, "--region", REGION, "--access-log", accessLogPath];
  const flags: [string, number | undefined][] = [
    ["--latency-ms", opts.latencyMs],
    ["--jitter-ms", opts.jitterMs],
    ["--throttle-rate", opts.throttleRate],
    ["--fault-rate", opts.faultRate],
  ];
  for (const [flag, value] of flags) if (value !== undefined) args.push(flag, String(value));

  // Only what the server needs: KMS_* variables from the test environment must not override the flags.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KMS_")));
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const endpoint = await waitForListening(child);
  const stopWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    endpoint,
    dataDir,
    accessLogPath,
    region: REGION,
    pid: child.pid!,
    client: (overrides = {}) =>
      new KMSClient({
        endpoint,
        region: REGION,
        credentials: { accessKeyId: LOCAL_KMS_ACCESS_KEY_ID, secretAccessKey: "local" },
        ...overrides,
      }),
    stop: () => stopWith("SIGTERM"),
    kill: () => stopWith("SIGKILL"),
  };
}

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new LocalKmsStartError(`local KMS ${why}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /Local KMS listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        child.removeListener("exit", onExit);
        resolve(match[1]!);
      }
    });
    const onExit = (code: number | null, signal: string | null) => fail(`exited early (code ${code}, signal ${signal})`);
    child.once("exit", onExit);
  });
}
