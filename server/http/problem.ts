import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./env.js";
import { KakuninError, problemType, storageFailure } from "../errors.js";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  field?: string;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

export function problemResponse(
  c: Context,
  status: number,
  code: string,
  detail: string,
  extra: { field?: string; retryAfter?: number } = {},
): Response {
  const body: Problem = {
    type: problemType(code),
    title: TITLES[status] ?? "Error",
    status,
    detail,
    code,
    instance: c.req.path,
  };
  if (extra.field !== undefined) body.field = extra.field;
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="kakunin"';
  if (extra.retryAfter !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(extra.retryAfter)));
  return new Response(JSON.stringify(body), { status, headers });
}

const THROTTLE_NAMES = new Set([
  "ThrottlingException",
  "LimitExceededException",
  "KMSInternalException",
  "DependencyTimeoutException",
  "ServiceUnavailableException",
]);

/** The one error mapper (app.onError): domain errors → problem+json; never leak internals. */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof KakuninError) {
    if (err.status >= 500)
      c.get("deps")?.logger.warn(
        { code: err.code, path: c.req.path, cause: String((err.cause as Error | undefined)?.name ?? "") },
        err.message,
      );
    return problemResponse(c, err.status, err.code, err.message, { field: err.field, retryAfter: err.retryAfter });
  }
  const full = storageFailure(err);
  if (full) {
    // The real database error is logged (never sent); the client gets a stable code.
    c.get("deps")?.logger.error(
      { err: { name: err.name, message: err.message, code: (err as { code?: string }).code }, path: c.req.path },
      "storage full",
    );
    return problemResponse(c, full.status, full.code, full.message, { retryAfter: full.retryAfter });
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return problemResponse(c, 413, "ERR_PAYLOAD_TOO_LARGE", "Request body too large");
    if (status === 415)
      return problemResponse(c, 415, "ERR_UNSUPPORTED_MEDIA_TYPE", "Request body must be application/json");
    if (status < 500) {
      const malformed = /json/i.test(err.message);
      return problemResponse(
        c,
        status,
        malformed ? "ERR_MALFORMED_JSON" : "ERR_BAD_REQUEST",
        malformed ? "Request body is not valid JSON" : err.message || "Bad request",
      );
    }
  }
  // Raw AWS SDK errors that escaped custody's mapping.
  const name = (err as { name?: string }).name ?? "";
  const httpStatus = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (
    THROTTLE_NAMES.has(name) ||
    (httpStatus !== undefined && httpStatus >= 500) ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT/.test(String((err as { code?: string }).code ?? err.message))
  ) {
    return problemResponse(c, 503, "ERR_KMS_UNAVAILABLE", "KMS is unavailable or throttling; retry later", {
      retryAfter: 1,
    });
  }
  if (name === "DisabledException" || name === "KMSInvalidStateException") {
    return problemResponse(c, 409, "ERR_KEY_STATE", "The KMS key is not in a usable state");
  }
  c.get("deps")?.logger.error(
    { err: { name: err.name, message: err.message, stack: err.stack }, path: c.req.path },
    "unhandled error",
  );
  return problemResponse(c, 500, "ERR_INTERNAL", "Internal server error");
}
