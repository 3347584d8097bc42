/**
 * One round trip to a TSA over HTTP (RFC 3161 §3.4): POST the request, check the reply, with a
 * deadline. Uses the global `fetch`, so it runs in Node and in browsers alike.
 */
import { TimestampUnavailableError } from "./errors.js";
import { buildTimestampRequest, type TimestampRequestOptions } from "./request.js";
import { verifyTimestampResponse } from "./response.js";
import type { TimestampExpectation, VerifiedTimestamp } from "./verify-token.js";
import type { Bytes } from "../formats/bytes.js";

const MAX_REPLY_BYTES = 64 * 1024;

export interface FetchTimestampOptions extends TimestampRequestOptions {
  /** Pinned TSA trust list (DER certificates). */
  trusted: readonly Uint8Array[];
  acceptedPolicies?: readonly string[];
  /** Deadline for the whole round trip, in milliseconds. */
  timeoutMs: number;
  /** Injectable fetch (defaults to globalThis.fetch). */
  fetch?: typeof fetch;
}

/**
 * Asks the TSA at `url` to timestamp a SHA-256 imprint and verifies the reply. Transport problems
 * (timeout, connection, HTTP status, content type, oversize reply) are ERR_TSA_UNAVAILABLE; a reply
 * that arrives but fails a check throws the check's own error.
 */
export async function fetchTimestamp(url: string, sha256Imprint: Uint8Array, opts: FetchTimestampOptions): Promise<VerifiedTimestamp & { token: Bytes }> {
  const req = buildTimestampRequest(sha256Imprint, opts);
  const doFetch = opts.fetch ?? globalThis.fetch;
  let body: Uint8Array;
  try {
    const res = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/timestamp-query", accept: "application/timestamp-reply" },
      body: req.der,
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: "error",
    });
    if (res.status !== 200) throw new TimestampUnavailableError(`TSA ${url} answered HTTP ${res.status}`, { field: "http" });
    const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/timestamp-reply") throw new TimestampUnavailableError(`TSA ${url} answered ${type || "no content type"}`, { field: "http" });
    if (Number(res.headers.get("content-length") ?? 0) > MAX_REPLY_BYTES) throw new TimestampUnavailableError(`TSA ${url} reply exceeds ${MAX_REPLY_BYTES} bytes`, { field: "http" });
    body = new Uint8Array(await res.arrayBuffer());
    if (body.length > MAX_REPLY_BYTES) throw new TimestampUnavailableError(`TSA ${url} reply exceeds ${MAX_REPLY_BYTES} bytes`, { field: "http" });
  } catch (err) {
    if (err instanceof TimestampUnavailableError) throw err;
    const name = (err as Error).name;
    throw new TimestampUnavailableError(name === "TimeoutError" || name === "AbortError" ? `TSA ${url} did not answer within ${opts.timeoutMs} ms` : `TSA ${url} unreachable: ${(err as Error).message}`, { field: "http" });
  }
  const expect: TimestampExpectation = { imprint: req.imprint, nonce: req.nonce, trusted: opts.trusted };
  if (opts.acceptedPolicies) expect.acceptedPolicies = opts.acceptedPolicies;
  return verifyTimestampResponse(body, expect);
}
