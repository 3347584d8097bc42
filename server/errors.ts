/**
 * Domain errors with a stable `code`. The single `app.onError` (server/http/problem.ts) maps every
 * KakuninError to an RFC 9457 `application/problem+json` response; anything else is a 500 that
 * never carries internal detail.
 */
export class KakuninError extends Error {
  readonly code: string;
  readonly status: number;
  readonly retryAfter?: number;
  readonly field?: string;
  constructor(
    status: number,
    code: string,
    message: string,
    opts: { retryAfter?: number; field?: string; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    if (opts.retryAfter !== undefined) this.retryAfter = opts.retryAfter;
    if (opts.field !== undefined) this.field = opts.field;
  }
}

/** 400 (malformed request) or 422 (well-formed but semantically invalid). */
export class ValidationError extends KakuninError {
  constructor(message: string, opts: { field?: string; status?: 400 | 422; code?: string } = {}) {
    super(
      opts.status ?? 400,
      opts.code ?? "ERR_VALIDATION",
      message,
      opts.field === undefined ? {} : { field: opts.field },
    );
  }
}

export class UnauthorizedError extends KakuninError {
  constructor(message = "A valid bearer token is required") {
    super(401, "ERR_UNAUTHORIZED", message);
  }
}

export class ForbiddenError extends KakuninError {
  constructor(message = "This token's role may not use this route") {
    super(403, "ERR_FORBIDDEN", message);
  }
}

/**
 * 403 `ERR_TOKEN_SUSPENDED`: an agent token suspended by a critical key-usage alert (its issuer's
 * `suspendTokensOnCritical`), refused on every route until the issuer resumes it.
 */
export class TokenSuspendedError extends KakuninError {
  constructor(alertId: string, agentId: string, since: string) {
    super(
      403,
      "ERR_TOKEN_SUSPENDED",
      `This token is suspended since ${since} after critical alert ${alertId}; the agent's issuer can resume it (POST /v1/agents/${agentId}/tokens/resume)`,
    );
  }
}

/** 429 `ERR_RATE_LIMITED`: the agent's signing-rate limit is used up; Retry-After says when one more signature fits. */
export class RateLimitedError extends KakuninError {
  constructor(agentId: string, retryAfterSeconds: number) {
    super(
      429,
      "ERR_RATE_LIMITED",
      `Agent ${agentId} is over its issuer's signing-rate limit; retry in ${retryAfterSeconds} s`,
      { retryAfter: retryAfterSeconds },
    );
  }
}

export class NotFoundError extends KakuninError {
  constructor(message = "Not found", code = "ERR_NOT_FOUND") {
    super(404, code, message);
  }
}

export class ConflictError extends KakuninError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

export class PayloadTooLargeError extends KakuninError {
  constructor(limit: number) {
    super(413, "ERR_PAYLOAD_TOO_LARGE", `Request body exceeds ${limit} bytes`);
  }
}

export class KmsUnavailableError extends KakuninError {
  constructor(message = "KMS is unavailable or throttling; retry later", retryAfter = 1, cause?: unknown) {
    super(503, "ERR_KMS_UNAVAILABLE", message, { retryAfter, cause });
  }
}

export class OverloadedError extends KakuninError {
  constructor(message = "Server is overloaded; retry later", retryAfter = 1) {
    super(503, "ERR_OVERLOADED", message, { retryAfter });
  }
}

export class KeyStateError extends KakuninError {
  constructor(message: string, cause?: unknown) {
    super(409, "ERR_KEY_STATE", message, { cause });
  }
}

/** `ERR_ALREADY_REVOKED` → `already-revoked` */
export function problemType(code: string): string {
  return `https://kakunin.dev/problems/${code.replace(/^ERR_/, "").toLowerCase().replace(/_/g, "-")}`;
}

/** The database's storage is full (SQLite SQLITE_FULL, PostgreSQL 53100 disk_full, ENOSPC): nothing was written. */
export class StorageFullError extends KakuninError {
  constructor(cause?: unknown) {
    super(507, "ERR_STORAGE_FULL", "The server's storage is full; nothing was written. Retry later", {
      retryAfter: 30,
      cause,
    });
  }
}

/** A database error that means "out of space", as a StorageFullError; undefined for anything else. */
export function storageFailure(err: unknown): StorageFullError | undefined {
  if (err instanceof StorageFullError) return err;
  for (
    let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0;
    e && typeof e === "object" && depth < 4;
    e = e.cause as typeof e, depth++
  ) {
    const code = e.code;
    if (code === "SQLITE_FULL" || code === "53100" || code === "ENOSPC" || code === "SQLITE_IOERR_WRITE")
      return new StorageFullError(err);
  }
  return undefined;
}
