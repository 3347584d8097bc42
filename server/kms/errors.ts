/**
 * Typed KMS errors. `KmsUnavailableError` and `KeyStateError` are the shared classes from
 * server/errors.ts (re-exported so callers of custody need one import); the rest are KMS-specific
 * and extend the same `KakuninError`, so the single app.onError maps them all to problem+json.
 *
 * Stable codes: ERR_KMS_UNAVAILABLE (503, retryable, `retryAfter` seconds), ERR_KEY_STATE (409),
 * ERR_KMS_NOT_FOUND (404), ERR_REGION_NOT_ALLOWED (400), ERR_KMS_FAILURE (502: KMS refused a request
 * we built — a bug or a misconfiguration, never retried blindly).
 */
import { KakuninError, KeyStateError, KmsUnavailableError } from "../errors.js";

export { KakuninError, KeyStateError, KmsUnavailableError };

export class KmsNotFoundError extends KakuninError {
  constructor(message: string, cause?: unknown) {
    super(404, "ERR_KMS_NOT_FOUND", message, { cause });
  }
}

export class RegionNotAllowedError extends KakuninError {
  readonly region: string;
  constructor(region: string, allowed: readonly string[]) {
    super(400, "ERR_REGION_NOT_ALLOWED", `KMS region ${region} is not in the allowed regions (${allowed.join(", ")})`);
    this.region = region;
  }
}

/** KMS rejected a request deterministically (validation, access denied, unsupported, …). */
export class KmsFailureError extends KakuninError {
  /** The AWS exception name, e.g. "AccessDeniedException". Never includes key material. */
  readonly awsCode: string;
  constructor(awsCode: string, message: string, cause?: unknown) {
    super(502, "ERR_KMS_FAILURE", message, { cause });
    this.awsCode = awsCode;
  }
}

const RETRYABLE = new Set([
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "KMSInternalException",
  "DependencyTimeoutException",
  "KeyUnavailableException",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "InternalFailure",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/** Socket-level failures (Node and undici codes) that mean "KMS was not reached": retried, then 503. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

interface SdkLikeError {
  name?: string;
  code?: string;
  message?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
  $retryable?: { throttling?: boolean };
  cause?: unknown;
}

function retryAfterSeconds(err: SdkLikeError, fallback: number): number {
  const header = err.$response?.headers?.["retry-after"] ?? err.$response?.headers?.["Retry-After"];
  if (header !== undefined) {
    const n = Number(header);
    if (Number.isFinite(n) && n >= 0) return Math.max(1, Math.ceil(n));
    const at = Date.parse(header);
    if (Number.isFinite(at)) return Math.max(1, Math.ceil((at - Date.now()) / 1000));
  }
  return fallback;
}

function networkCode(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 4) return undefined;
  const e = err as SdkLikeError;
  if (typeof e.code === "string" && NETWORK_ERROR_CODES.has(e.code)) return e.code;
  return networkCode(e.cause, depth + 1);
}

/**
 * Maps anything the AWS SDK throws to a typed error. Messages name the operation and the AWS
 * exception only (KMS messages carry ARNs at most; never key material).
 */
export function mapKmsError(err: unknown, operation: string): KakuninError {
  if (err instanceof KakuninError) return err;
  const e = (err && typeof err === "object" ? err : {}) as SdkLikeError;
  const name = e.name ?? "Error";
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const what = `KMS ${operation} failed: ${name}`;

  if (name === "DisabledException" || name === "KMSInvalidStateException") {
    return new KeyStateError(`${what}${e.message ? ` (${e.message})` : ""}`, err);
  }
  if (name === "NotFoundException") return new KmsNotFoundError(`${what}${e.message ? ` (${e.message})` : ""}`, err);
  const throttled = e.$retryable?.throttling === true || /Throttl|TooManyRequests|RequestLimitExceeded/.test(name);
  if (throttled) return new KmsUnavailableError(`${what}: throttled`, retryAfterSeconds(e, 1), err);
  if (
    RETRYABLE.has(name) ||
    e.$fault === "server" ||
    (status !== undefined && status >= 500) ||
    networkCode(err) !== undefined
  ) {
    return new KmsUnavailableError(`${what}: unavailable`, retryAfterSeconds(e, 2), err);
  }
  return new KmsFailureError(name, `${what}${e.message ? ` (${e.message})` : ""}`, err);
}
