/** The one error type the client raises: an RFC 9457 problem from the server, or a transport failure. */
import type { components } from "./api.gen.js";

/** An RFC 9457 problem document as the Kakunin API sends it (`application/problem+json`), typed from the OpenAPI document. */
export type Problem = components["schemas"]["Problem"];

/**
 * A failed call. `code` is the server's stable problem code (e.g. `ERR_AGENT_NOT_FOUND`), or one of
 * the client's own: `ERR_NETWORK` (no HTTP answer; `status` 0) and `ERR_UNEXPECTED_RESPONSE` (an
 * answer that is not a problem document, e.g. a proxy's HTML error page).
 */
export class KakuninApiError extends Error {
  override readonly name = "KakuninApiError";
  readonly code: string;
  readonly status: number;
  readonly detail: string;
  readonly field: string | undefined;
  /** Seconds from the Retry-After header, if the server sent one. */
  readonly retryAfter: number | undefined;
  readonly problem: Problem | undefined;

  constructor(init: {
    code: string;
    status: number;
    detail: string;
    field?: string;
    retryAfter?: number;
    problem?: Problem;
    cause?: unknown;
  }) {
    super(
      `${init.code}: ${init.detail}${init.status ? ` (HTTP ${init.status})` : ""}`,
      init.cause !== undefined ? { cause: init.cause } : undefined,
    );
    this.code = init.code;
    this.status = init.status;
    this.detail = init.detail;
    this.field = init.field;
    this.retryAfter = init.retryAfter;
    this.problem = init.problem;
  }
}

function isProblem(v: unknown): v is Problem {
  const p = v as Partial<Problem> | null;
  return (
    typeof p === "object" &&
    p !== null &&
    typeof p.code === "string" &&
    typeof p.status === "number" &&
    typeof p.detail === "string"
  );
}

/** Seconds to wait from a Retry-After value (delta-seconds or an HTTP-date), or undefined. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/** Builds the error for a non-2xx response whose body has been read as `body` (parsed JSON or text). */
export function errorFromResponse(response: Response, body: unknown): KakuninApiError {
  const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  if (isProblem(parsed)) {
    return new KakuninApiError({
      code: parsed.code,
      status: response.status,
      detail: parsed.detail,
      problem: parsed,
      ...(parsed.field !== undefined ? { field: parsed.field } : {}),
      ...(retryAfter !== undefined ? { retryAfter } : {}),
    });
  }
  return new KakuninApiError({
    code: "ERR_UNEXPECTED_RESPONSE",
    status: response.status,
    detail: `HTTP ${response.status} ${response.statusText || ""}`.trim() + " without a problem document",
    ...(retryAfter !== undefined ? { retryAfter } : {}),
  });
}
