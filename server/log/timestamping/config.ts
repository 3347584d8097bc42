/**
 * Settings of checkpoint timestamping, read from the environment (server/config.ts
 * `loadServerConfig`); errors name the variable and the offending item.
 */
import { readFileSync } from "node:fs";
import { parseTsaBundle, type TsaBundle } from "../../../verifier/src/timestamp/index.js";

export interface TimestampingConfig {
  /** TSAs asked for every checkpoint, in the operator's order of preference (KAKUNIN_TSA_URLS, comma-separated; empty = off). */
  urls: string[];
  /** Deadline of one request to one TSA, ms (KAKUNIN_TSA_TIMEOUT_MS, default 5000). */
  timeoutMs: number;
  /** Requests per TSA per checkpoint, the first included (KAKUNIN_TSA_ATTEMPTS, default 2, at most 5). */
  attempts: number;
  /** TSAPolicyId to ask for (KAKUNIN_TSA_POLICY; default: the TSA's own). */
  policy?: string;
  /** Pinned TSA trust list (and CRLs) from KAKUNIN_TSA_TRUST_FILE, a PEM bundle; required when urls is not empty. */
  trust?: TsaBundle;
}

/** A setting that cannot be used; the message names the variable. */
export class TimestampingConfigError extends Error {
  readonly code = "ERR_CONFIG";
}

const MAX_TSAS = 8;

/**
 * Parses KAKUNIN_TSA_URLS: comma-separated absolute http(s) URLs, surrounding blanks ignored.
 * Refused: another scheme, user:password@ (credentials would end up in logs and outcomes), a
 * fragment, the same URL twice, more than 8.
 */
export function parseTsaUrls(raw: string | undefined, name = "KAKUNIN_TSA_URLS"): string[] {
  if (raw === undefined || raw.trim() === "") return [];
  const items = raw.split(",").map((s) => s.trim());
  const urls: string[] = [];
  items.forEach((item, i) => {
    const where = `${name} item ${i + 1}`;
    if (item === "") throw new TimestampingConfigError(`${where} is empty (stray comma?)`);
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      // Not echoed: a mistyped item may still hold a secret.
      throw new TimestampingConfigError(`${where} is not an absolute URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new TimestampingConfigError(`${where}: scheme ${url.protocol} is not http or https`);
    if (url.username || url.password) throw new TimestampingConfigError(`${where}: credentials in the URL are refused`);
    if (url.hash) throw new TimestampingConfigError(`${where}: a fragment has no meaning for a TSA`);
    const href = url.href;
    if (urls.includes(href)) throw new TimestampingConfigError(`${where} repeats ${href}`);
    urls.push(href);
  });
  if (urls.length > MAX_TSAS)
    throw new TimestampingConfigError(`${name} names ${urls.length} TSAs, at most ${MAX_TSAS}`);
  return urls;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new TimestampingConfigError(
      `Invalid ${name}: ${JSON.stringify(raw)} (expected an integer from ${min} to ${max})`,
    );
  return n;
}

/** Reads the timestamping settings; `readFile` is injectable for tests of the error paths. */
export function loadTimestampingConfig(
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): TimestampingConfig {
  const config: TimestampingConfig = {
    urls: parseTsaUrls(env.KAKUNIN_TSA_URLS),
    timeoutMs: int(env, "KAKUNIN_TSA_TIMEOUT_MS", 5000, 1, 120_000),
    attempts: int(env, "KAKUNIN_TSA_ATTEMPTS", 2, 1, 5),
  };
  const policy = env.KAKUNIN_TSA_POLICY;
  if (policy) {
    if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(policy))
      throw new TimestampingConfigError(`Invalid KAKUNIN_TSA_POLICY: ${JSON.stringify(policy)} (expected an OID)`);
    config.policy = policy;
  }
  const file = env.KAKUNIN_TSA_TRUST_FILE;
  if (file) {
    let pem: string;
    try {
      pem = readFile(file);
    } catch (err) {
      throw new TimestampingConfigError(
        `KAKUNIN_TSA_TRUST_FILE ${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    try {
      config.trust = parseTsaBundle(pem, "KAKUNIN_TSA_TRUST_FILE");
    } catch (err) {
      throw new TimestampingConfigError((err as Error).message);
    }
  } else if (config.urls.length > 0) {
    // Without a pin the log would store tokens no verifier can rely on, and could not tell a rogue TSA.
    throw new TimestampingConfigError(
      "KAKUNIN_TSA_URLS is set but KAKUNIN_TSA_TRUST_FILE is not: pin the TSAs' CA certificates (PEM)",
    );
  }
  return config;
}
