/**
 * A fetch that retries 429 and 503 answers, waiting what Retry-After asks, a bounded number of
 * times. Both statuses mean the server did not perform the request ("try later"), so retrying is
 * safe for every method; the request body is re-sent from a clone. A Retry-After longer than
 * `maxDelayMs` is not cut short (asking again before then only earns another refusal): the answer
 * is returned at once, and the caller's error carries its `retryAfter`.
 */
import { KakuninApiError, parseRetryAfter } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 disables). */
  retries?: number;
  /** Wait when the answer has no Retry-After, in ms (default 500, doubled each retry). */
  baseDelayMs?: number;
  /** Longest wait, in ms (default 10 000): a Retry-After beyond it is not waited for but returned. */
  maxDelayMs?: number;
  /** Called before each wait (the CLI prints it; tests record it). */
  onRetry?: (info: { attempt: number; status: number; delayMs: number; url: string }) => void;
  /** How to wait (tests replace it to record delays without sleeping). */
  sleep?: (ms: number) => Promise<void>;
}

const RETRY_STATUSES = new Set([429, 503]);
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The delay before retry number `attempt` (1-based) of `response`, or undefined when the server's
 * Retry-After asks for longer than `maxDelayMs` (then there is no retry). Without a Retry-After,
 * the back-off doubles from `baseDelayMs`, capped at `maxDelayMs`.
 */
export function retryDelayMs(response: Response, attempt: number, opts: RetryOptions = {}): number | undefined {
  const max = opts.maxDelayMs ?? 10_000;
  const seconds = parseRetryAfter(response.headers.get("retry-after"));
  if (seconds !== undefined) return seconds * 1000 > max ? undefined : Math.max(0, Math.round(seconds * 1000));
  return Math.min(max, Math.round((opts.baseDelayMs ?? 500) * 2 ** (attempt - 1)));
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
      if (delayMs === undefined) return response;
      await response.body?.cancel().catch(() => undefined);
      opts.onRetry?.({ attempt: attempt + 1, status: response.status, delayMs, url: request.url });
      await sleep(delayMs);
    }
  };
}
