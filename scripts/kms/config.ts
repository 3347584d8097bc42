import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { FaultConfig } from "./faults.js";

/** Command-line flags (with environment fallbacks) of `npm run kms`. */
export interface KmsConfig {
  host: string;
  port: number;
  dataDir: string;
  region: string;
  account: string;
  accessLogPath: string;
  /** Where CloudTrail-shaped log files go (AWSLogs/<account>/CloudTrail/<region>/…), or undefined for none. */
  cloudTrailDir: string | undefined;
  /** One CloudTrail log file per this many ms (when calls were made). */
  cloudTrailFlushMs: number;
  workers: number;
  faults: FaultConfig;
}

export class ConfigError extends Error {
  readonly code = "KMS_CONFIG_INVALID";
}

export const USAGE = `Usage: npm run kms -- [options]

Local KMS-compatible server (AWS JSON 1.1, TrentService) for development and tests.

Options (environment fallback in brackets):
  --host <addr>           listen address [KMS_HOST] (default 127.0.0.1)
  --port <n>              listen port, 0 picks a free one [KMS_PORT] (default 4599)
  --data-dir <dir>        key store directory [KMS_DATA_DIR] (default .data/kms)
  --region <name>         region in ARNs [KMS_REGION] (default eu-west-1)
  --account <id>          12-digit account id in ARNs [KMS_ACCOUNT] (default 111122223333)
  --access-log <file>     CloudTrail-style JSON lines [KMS_ACCESS_LOG] (default <data-dir>/cloudtrail.jsonl)
  --cloudtrail-dir <dir>  CloudTrail log files (gzip JSON Records, AWSLogs/… layout), "off" for none
                          [KMS_CLOUDTRAIL_DIR] (default <data-dir>/cloudtrail)
  --cloudtrail-flush-ms <n>  one CloudTrail file per this interval [KMS_CLOUDTRAIL_FLUSH_MS] (default 2000)
  --workers <n>           signing worker threads [KMS_WORKERS] (default: available cores)
  --latency-ms <n>        added latency per call [KMS_LATENCY_MS] (default 0)
  --jitter-ms <n>         extra uniform random latency [KMS_JITTER_MS] (default 0)
  --throttle-rate <0..1>  share of calls answered with ThrottlingException [KMS_THROTTLE_RATE] (default 0)
  --fault-rate <0..1>     share of calls answered with HTTP 500 KMSInternalException [KMS_FAULT_RATE] (default 0)
  --help                  show this help
`;

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): KmsConfig | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      host: { type: "string" },
      port: { type: "string" },
      "data-dir": { type: "string" },
      region: { type: "string" },
      account: { type: "string" },
      "access-log": { type: "string" },
      "cloudtrail-dir": { type: "string" },
      "cloudtrail-flush-ms": { type: "string" },
      workers: { type: "string" },
      "latency-ms": { type: "string" },
      "jitter-ms": { type: "string" },
      "throttle-rate": { type: "string" },
      "fault-rate": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";

  const pick = (flag: string | undefined, envName: string) => flag ?? (env[envName] || undefined);
  const dataDir = resolve(pick(values["data-dir"], "KMS_DATA_DIR") ?? ".data/kms");
  const account = pick(values.account, "KMS_ACCOUNT") ?? "111122223333";
  if (!/^\d{12}$/.test(account)) throw new ConfigError(`--account must be 12 digits, got ${account}`);
  const region = pick(values.region, "KMS_REGION") ?? "eu-west-1";
  const cloudTrailDir = pick(values["cloudtrail-dir"], "KMS_CLOUDTRAIL_DIR");
  if (!/^[a-z0-9-]+$/.test(region)) throw new ConfigError(`--region is not a region name: ${region}`);

  return {
    host: pick(values.host, "KMS_HOST") ?? "127.0.0.1",
    port: number("--port", pick(values.port, "KMS_PORT"), 4599, 0, 65535, true),
    dataDir,
    region,
    account,
    accessLogPath: resolve(pick(values["access-log"], "KMS_ACCESS_LOG") ?? join(dataDir, "cloudtrail.jsonl")),
    cloudTrailDir: cloudTrailDir === "off" ? undefined : resolve(cloudTrailDir ?? join(dataDir, "cloudtrail")),
    cloudTrailFlushMs: number(
      "--cloudtrail-flush-ms",
      pick(values["cloudtrail-flush-ms"], "KMS_CLOUDTRAIL_FLUSH_MS"),
      2000,
      1,
      3_600_000,
      true,
    ),
    workers: number("--workers", pick(values.workers, "KMS_WORKERS"), availableParallelism(), 1, 64, true),
    faults: {
      latencyMs: number("--latency-ms", pick(values["latency-ms"], "KMS_LATENCY_MS"), 0, 0, 600_000),
      jitterMs: number("--jitter-ms", pick(values["jitter-ms"], "KMS_JITTER_MS"), 0, 0, 600_000),
      throttleRate: number("--throttle-rate", pick(values["throttle-rate"], "KMS_THROTTLE_RATE"), 0, 0, 1),
      faultRate: number("--fault-rate", pick(values["fault-rate"], "KMS_FAULT_RATE"), 0, 0, 1),
    },
  };
}

function number(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
  integer = false,
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ConfigError(
      `${name} must be ${integer ? "an integer" : "a number"} between ${min} and ${max}, got ${raw}`,
    );
  }
  return value;
}
