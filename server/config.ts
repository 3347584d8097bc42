import path from "node:path";
import { logNameFrom } from "./log/tree/log-key.js";
import { DEFAULT_KMS_CALL_TIMEOUT_MS, DEFAULT_REQUEST_DEADLINE_MS } from "./kms/deadline.js";

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** `sqlite:<file>` style path or a `postgres://` URL. */
  databaseUrl: string;
  kmsEndpoint: string | undefined;
  region: string;
  allowedRegions: string[];
  trustDomain: string;
  publicUrl: string;
  bodyLimit: number;
  /** Bytes of request bodies being received at once, all requests together; beyond it 503 (KAKUNIN_BODY_BUDGET, default 64 MiB). */
  bodyBudget: number;
  /** Whole request (headers and body) must arrive within this, else 408 (KAKUNIN_REQUEST_TIMEOUT_MS, default 30000). */
  requestTimeoutMs: number;
  /** Request headers must arrive within this, else 408 (KAKUNIN_HEADERS_TIMEOUT_MS, default 10000). */
  headersTimeoutMs: number;
  /** A connection with no bytes either way for this long is closed (KAKUNIN_IDLE_TIMEOUT_MS, default 60000). */
  idleTimeoutMs: number;
  renewBeforeDays: number;
  schedulerIntervalMs: number;
  operatorToken: string | undefined;
  logLevel: string;
  agentValidityDays: number;
  crlValidityDays: number;
  /** IAM role the service runs as; agent key policies grant only this role (KAKUNIN_SERVICE_ROLE_ARN). */
  serviceRoleArn: string | undefined;
  /** Where published checkpoints are witnessed outside the database (KAKUNIN_WITNESS_DIR, default <DATA_DIR>/witness). */
  witnessDir: string;
  /** Cluster-wide checkpoint publication period, ms (KAKUNIN_CHECKPOINT_INTERVAL_MS, default 1000; 0 = per-instance debounce). */
  checkpointIntervalMs: number;
  /** Log v2: origin prefix of every issuer's log (KAKUNIN_LOG_NAME; default: KAKUNIN_PUBLIC_URL's host and path). */
  logName: string;
  /** Log v2: entry bundles readable without the issuer's token (KAKUNIN_PUBLIC_ENTRIES=true). */
  publicEntries: boolean;
  /** Log v2: folder the tiles job keeps the published log in (KAKUNIN_TILES_DIR; unset: no job). */
  tilesDir: string | undefined;
  /** How KMS Sign is called: "direct" (default, server/kms/sign-client.ts) or "sdk" (KAKUNIN_KMS_SIGN_TRANSPORT). */
  kmsSignTransport: "direct" | "sdk";
  /** Bound on each KMS call, the SDK's retries included, ms (KAKUNIN_KMS_CALL_TIMEOUT_MS, default 2000). */
  kmsCallTimeoutMs: number;
  /** Bound on an audit-log append across its KMS signing attempts and queueing, ms (KAKUNIN_REQUEST_DEADLINE_MS, default 5000). */
  requestDeadlineMs: number;
  /** Largest tolerated difference between the server's and the database's clock before appends freeze, ms (KAKUNIN_MAX_CLOCK_SKEW_MS, default 60000). */
  maxClockSkewMs: number;
  /** Drills and tests only: a file holding an offset (ms) added to the server's clock (KAKUNIN_CLOCK_OFFSET_FILE). */
  clockOffsetFile: string | undefined;
}

const DEFAULT_ALLOWED = [
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
];

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`Invalid ${name}: ${JSON.stringify(raw)} (expected an integer >= ${min})`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(env.DATA_DIR || ".data");
  const port = int(env, "PORT", 8080);
  const host = env.HOST || "127.0.0.1";
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || "eu-west-1";
  const allowedRegions = (env.KAKUNIN_ALLOWED_REGIONS || DEFAULT_ALLOWED.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!allowedRegions.includes(region)) {
    throw new Error(`AWS_REGION ${region} is not in KAKUNIN_ALLOWED_REGIONS (${allowedRegions.join(",")})`);
  }
  const kmsSignTransport = env.KAKUNIN_KMS_SIGN_TRANSPORT || "direct";
  if (kmsSignTransport !== "direct" && kmsSignTransport !== "sdk")
    throw new Error(`Invalid KAKUNIN_KMS_SIGN_TRANSPORT: ${JSON.stringify(kmsSignTransport)} (expected direct or sdk)`);
  return {
    port,
    host,
    dataDir,
    databaseUrl: env.DATABASE_URL || path.join(dataDir, "kakunin.db"),
    kmsEndpoint: env.KMS_ENDPOINT || undefined,
    region,
    allowedRegions,
    trustDomain: env.KAKUNIN_TRUST_DOMAIN || "kakunin.local",
    publicUrl: (env.KAKUNIN_PUBLIC_URL || `http://${host}:${port}`).replace(/\/+$/, ""),
    bodyLimit: int(env, "KAKUNIN_BODY_LIMIT", 1_048_576, 1),
    bodyBudget: int(env, "KAKUNIN_BODY_BUDGET", 64 * 1_048_576, 1),
    requestTimeoutMs: int(env, "KAKUNIN_REQUEST_TIMEOUT_MS", 30_000, 1),
    headersTimeoutMs: int(env, "KAKUNIN_HEADERS_TIMEOUT_MS", 10_000, 1),
    idleTimeoutMs: int(env, "KAKUNIN_IDLE_TIMEOUT_MS", 60_000, 1),
    renewBeforeDays: int(env, "KAKUNIN_RENEW_BEFORE_DAYS", 30),
    schedulerIntervalMs: int(env, "KAKUNIN_SCHEDULER_INTERVAL_MS", 3_600_000),
    operatorToken: env.KAKUNIN_OPERATOR_TOKEN || undefined,
    logLevel: env.LOG_LEVEL || "info",
    agentValidityDays: int(env, "KAKUNIN_AGENT_VALIDITY_DAYS", 365, 1),
    crlValidityDays: int(env, "KAKUNIN_CRL_VALIDITY_DAYS", 7, 1),
    serviceRoleArn: env.KAKUNIN_SERVICE_ROLE_ARN || undefined,
    witnessDir: path.resolve(env.KAKUNIN_WITNESS_DIR || path.join(dataDir, "witness")),
    checkpointIntervalMs: int(env, "KAKUNIN_CHECKPOINT_INTERVAL_MS", 1000),
    logName: logNameFrom(
      env.KAKUNIN_LOG_NAME,
      (env.KAKUNIN_PUBLIC_URL || `http://${host}:${port}`).replace(/\/+$/, ""),
    ),
    publicEntries: env.KAKUNIN_PUBLIC_ENTRIES === "true",
    tilesDir: env.KAKUNIN_TILES_DIR ? path.resolve(env.KAKUNIN_TILES_DIR) : undefined,
    kmsSignTransport,
    kmsCallTimeoutMs: int(env, "KAKUNIN_KMS_CALL_TIMEOUT_MS", DEFAULT_KMS_CALL_TIMEOUT_MS, 1),
    requestDeadlineMs: int(env, "KAKUNIN_REQUEST_DEADLINE_MS", DEFAULT_REQUEST_DEADLINE_MS, 1),
    maxClockSkewMs: int(env, "KAKUNIN_MAX_CLOCK_SKEW_MS", 60_000, 1),
    clockOffsetFile: env.KAKUNIN_CLOCK_OFFSET_FILE || undefined,
  };
}
