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
  /** Cancels the round trip early (e.g. on shutdown); reported as `reason` timeout. */
  signal?: AbortSignal;
}

/** Reads at most `max` bytes of a body; more is ERR_TSA_UNAVAILABLE (a hostile TSA may stream without end). */
async function readCapped(res: Response, url: string, max: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new TimestampUnavailableError(`TSA ${url} reply exceeds ${max} bytes`, "http");
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return body;
}

/**
 * Asks the TSA at `url` to timestamp a SHA-256 imprint and verifies the reply. Transport problems
 * (timeout, connection, HTTP status, content type, oversize reply) are ERR_TSA_UNAVAILABLE, with
 * `reason` timeout / network / http; a reply that arrives but fails a check throws the check's own error.
 */
export async function fetchTimestamp(
  url: string,
  sha256Imprint: Uint8Array,
  opts: FetchTimestampOptions,
): Promise<VerifiedTimestamp & { token: Bytes }> {
  const req = buildTimestampRequest(sha256Imprint, opts);
  const doFetch = opts.fetch ?? globalThis.fetch;
  // One controller for the deadline and the caller's signal, so body reading is bounded too.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const onAbort = () => controller.abort();
  if (opts.signal?.aborted) controller.abort();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  let body: Uint8Array;
  try {
    const res = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/timestamp-query", accept: "application/timestamp-reply" },
      body: req.der,
      signal: controller.signal,
      redirect: "error",
    });
    const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    let refused: string | undefined;
    if (res.status !== 200) refused = `TSA ${url} answered HTTP ${res.status}`;
    else if (type !== "application/timestamp-reply") refused = `TSA ${url} answered ${type || "no content type"}`;
    else if (Number(res.headers.get("content-length") ?? 0) > MAX_REPLY_BYTES)
      refused = `TSA ${url} reply exceeds ${MAX_REPLY_BYTES} bytes`;
    if (refused) {
      await res.body?.cancel().catch(() => undefined); // frees the connection
      throw new TimestampUnavailableError(refused, "http");
    }
    body = await readCapped(res, url, MAX_REPLY_BYTES);
  } catch (err) {
    if (err instanceof TimestampUnavailableError) throw err;
    if (timedOut)
      throw new TimestampUnavailableError(`TSA ${url} did not answer within ${opts.timeoutMs} ms`, "timeout");
    if (controller.signal.aborted) throw new TimestampUnavailableError(`TSA ${url}: request cancelled`, "timeout");
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    throw new TimestampUnavailableError(
      `TSA ${url} unreachable: ${(err as Error).message}${typeof cause === "string" ? ` (${cause})` : ""}`,
      "network",
    );
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onAbort);
  }
  const expect: TimestampExpectation = { imprint: req.imprint, nonce: req.nonce, trusted: opts.trusted };
  if (opts.acceptedPolicies) expect.acceptedPolicies = opts.acceptedPolicies;
  return verifyTimestampResponse(body, expect);
}
