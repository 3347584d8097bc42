import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KMSClient, SignCommand, type KMSClientConfig } from "@aws-sdk/client-kms";
import { startDaemon } from "./process.js";

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
  const args = [
    "--import",
    "tsx",
    MAIN,
    "--port",
    String(opts.port ?? 0),
    "--data-dir",
    dataDir,
    "--region",
    REGION,
    "--access-log",
    accessLogPath,
  ];
  const flags: [string, number | undefined][] = [
    ["--latency-ms", opts.latencyMs],
    ["--jitter-ms", opts.jitterMs],
    ["--throttle-rate", opts.throttleRate],
    ["--fault-rate", opts.faultRate],
  ];
  for (const [flag, value] of flags) if (value !== undefined) args.push(flag, String(value));

  // Only what the server needs: KMS_* variables from the test environment must not override the flags.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KMS_")));
  const kms = await startDaemon(process.execPath, args, {
    name: "local KMS",
    cwd: REPO_ROOT,
    env,
    timeoutMs: START_TIMEOUT_MS,
    ready: (stdout) => /Local KMS listening on (http:\/\/\S+)/.exec(stdout)?.[1],
    error: (message) => new LocalKmsStartError(message),
  });
  const endpoint = kms.ready;
  return {
    endpoint,
    dataDir,
    accessLogPath,
    region: REGION,
    pid: kms.pid,
    client: (overrides = {}) =>
      new KMSClient({
        endpoint,
        region: REGION,
        credentials: { accessKeyId: LOCAL_KMS_ACCESS_KEY_ID, secretAccessKey: "local" },
        ...overrides,
      }),
    stop: () => kms.stop("SIGTERM"),
    kill: () => kms.stop("SIGKILL"),
  };
}

/**
 * Signs a digest with `keyArn` straight through the AWS SDK, as someone holding KMS access but
 * bypassing Kakunin would: nothing is logged, so reconciliation must call it an unlogged
 * signature. Returns the KMS request id CloudTrail records for it.
 */
export async function signOutsideKakunin(kms: LocalKms, keyArn: string, fill = 5): Promise<string> {
  const client = kms.client();
  try {
    const out = await client.send(
      new SignCommand({
        KeyId: keyArn,
        Message: new Uint8Array(32).fill(fill),
        MessageType: "DIGEST",
        SigningAlgorithm: "RSASSA_PSS_SHA_256",
      }),
    );
    return out.$metadata.requestId!;
  } finally {
    client.destroy();
  }
}
