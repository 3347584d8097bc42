/**
 * A fetch that retries 429 and 503 answers, waiting what Retry-After asks (capped), a bounded
 * number of times. Both statuses mean the server did not perform the request ("try later"), so
 * retrying is safe for every method; the request body is re-sent from a clone.
 */
import { KakuninApiError, parseRetryAfter } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 disables). */
  retries?: number;
  /** Wait when the answer has no Retry-After, in ms (default 500, doubled each retry). */
  baseDelayMs?: number;
  /** Upper bound of one wait, in ms, whatever Retry-After says (default 10 000). */
  maxDelayMs?: number;
  /** Called before each wait (the CLI prints it; tests record it). */
  onRetry?: (info: { attempt: number; status: number; delayMs: number; url: string }) => void;
  /** How to wait (tests replace it to record delays without sleeping). */
  sleep?: (ms: number) => Promise<void>;
}

const RETRY_STATUSES = new Set([429, 503]);
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The delay before retry number `attempt` (1-based) of `response`. */
export function retryDelayMs(response: Response, attempt: number, opts: RetryOptions = {}): number {
  const max = opts.maxDelayMs ?? 10_000;
  const seconds = parseRetryAfter(response.headers.get("retry-after"));
  const wanted = seconds !== undefined ? seconds * 1000 : (opts.baseDelayMs ?? 500) * 2 ** (attempt - 1);
  return Math.min(max, Math.max(0, Math.round(wanted)));
}

/** Wraps `inner` (default: global fetch) with the retry policy. Network failures become ERR_NETWORK. */
export function retryingFetch(
  opts: RetryOptions = {},
  inner: typeof fetch = globalThis.fetch,
): (request: Request) => Promise<Response> {
  const retries = Math.max(0, opts.retries ?? 3);
  const sleep = opts.sleep ?? defaultSleep;
  return async (request: Request) => {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await inner(attempt < retries ? request.clone() : request);
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new KakuninApiError({
          code: "ERR_NETWORK",
          status: 0,
          detail: `${request.method} ${request.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`,
          cause: e,
        });
      }
      if (!RETRY_STATUSES.has(response.status) || attempt >= retries) return response;
      const delayMs = retryDelayMs(response, attempt + 1, opts);
      await response.body?.cancel().catch(() => undefined);
      opts.onRetry?.({ attempt: attempt + 1, status: response.status, delayMs, url: request.url });
      await sleep(delayMs);
    }
  };
}
