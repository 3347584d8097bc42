import { S3Client } from "@aws-sdk/client-s3";
import { DirCloudTrailStore } from "./cloudtrail-dir-store.js";
import { parseCloudTrailLocation, type CloudTrailLocation } from "./cloudtrail-location.js";
import { DEFAULT_S3_CALL_TIMEOUT_MS, S3CloudTrailStore } from "./cloudtrail-s3-store.js";
import type { CloudTrailStore } from "./cloudtrail-store.js";
import { MonitoringConfigError } from "./errors.js";

/** Key-usage monitoring settings, from the environment. */
export interface MonitoringConfig {
  /** KAKUNIN_CLOUDTRAIL: where the trail's files are; undefined = no reconciliation. */
  cloudTrail: CloudTrailLocation | undefined;
  /** KAKUNIN_RECONCILE_INTERVAL_MS (default 300000 = 5 min). */
  reconcileIntervalMs: number;
  /** KAKUNIN_CLOUDTRAIL_TIMEOUT_MS: bound on one S3 call (default 10000). */
  cloudTrailTimeoutMs: number;
  /** KAKUNIN_ALERT_WEBHOOK: URL alerts are POSTed to; undefined = none. */
  webhookUrl: string | undefined;
  /** KAKUNIN_ALERT_WEBHOOK_SECRET: HMAC key of the webhook's signature (required with a webhook). */
  webhookSecret: string | undefined;
}

/** Shortest webhook secret accepted: an HMAC key guessable by brute force protects nothing. */
const MIN_SECRET_LENGTH = 32;

export function loadMonitoringConfig(env: NodeJS.ProcessEnv = process.env): MonitoringConfig {
  const cloudTrail = env.KAKUNIN_CLOUDTRAIL ? parseCloudTrailLocation(env.KAKUNIN_CLOUDTRAIL) : undefined;
  const webhookUrl = env.KAKUNIN_ALERT_WEBHOOK || undefined;
  const webhookSecret = env.KAKUNIN_ALERT_WEBHOOK_SECRET || undefined;
  if (webhookUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(webhookUrl);
    } catch {
      throw new MonitoringConfigError("KAKUNIN_ALERT_WEBHOOK", "not a URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:")
      throw new MonitoringConfigError("KAKUNIN_ALERT_WEBHOOK", "must be an http: or https: URL");
    if (url.username || url.password)
      throw new MonitoringConfigError(
        "KAKUNIN_ALERT_WEBHOOK",
        "must not carry credentials (the body is signed with KAKUNIN_ALERT_WEBHOOK_SECRET)",
      );
    // The message never quotes the secret, not even its length.
    if (webhookSecret === undefined || webhookSecret.length < MIN_SECRET_LENGTH) {
      throw new MonitoringConfigError(
        "KAKUNIN_ALERT_WEBHOOK_SECRET",
        `required with KAKUNIN_ALERT_WEBHOOK, at least ${MIN_SECRET_LENGTH} characters`,
      );
    }
  }
  return {
    cloudTrail,
    reconcileIntervalMs: int(env, "KAKUNIN_RECONCILE_INTERVAL_MS", 300_000, 1_000),
    cloudTrailTimeoutMs: int(env, "KAKUNIN_CLOUDTRAIL_TIMEOUT_MS", DEFAULT_S3_CALL_TIMEOUT_MS, 100),
    webhookUrl,
    webhookSecret: webhookUrl === undefined ? undefined : webhookSecret,
  };
}

/** The store for a location; S3 through `s3` (or a client for `region` with the default credential chain). */
export function openCloudTrailStore(
  location: CloudTrailLocation,
  options: { region: string; timeoutMs: number; s3?: S3Client },
): CloudTrailStore {
  if (location.kind === "dir") return new DirCloudTrailStore(location.path);
  const client = options.s3 ?? new S3Client({ region: options.region, maxAttempts: 3 });
  return new S3CloudTrailStore(client, location.bucket, location.prefix, options.timeoutMs);
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min)
    throw new MonitoringConfigError(name, `expected an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}
