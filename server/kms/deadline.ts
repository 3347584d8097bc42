/**
 * Deadlines for KMS. A KMS that accepts connections and never answers (a stalled host, a
 * partition that drops packets) must not hold requests for minutes: every KMS call is bounded by
 * KAKUNIN_KMS_CALL_TIMEOUT_MS (the SDK's own retries included — they run inside the bound), and an
 * audit-log append is bounded by KAKUNIN_REQUEST_DEADLINE_MS across its signing attempts. Past
 * either, the caller gets 503 ERR_KMS_UNAVAILABLE with Retry-After.
 */

/** Default bound on one KMS call, retries included (KAKUNIN_KMS_CALL_TIMEOUT_MS). */
export const DEFAULT_KMS_CALL_TIMEOUT_MS = 2_000;
/**
 * CreateKey generates an RSA key inside KMS, which can take seconds on a busy KMS: it gets at
 * least this bound (a registration during an outage answers 503 within it).
 */
export const CREATE_KEY_MIN_TIMEOUT_MS = 5_000;
/** Default bound on one append across its signing attempts and queueing (KAKUNIN_REQUEST_DEADLINE_MS). */
export const DEFAULT_REQUEST_DEADLINE_MS = 5_000;

/** A KMS call did not finish within its deadline. Shaped like a network timeout so mapKmsError reads it as "unavailable". */
export class KmsDeadlineError extends Error {
  readonly code = "ETIMEDOUT";
  constructor(operation: string, ms: number) {
    super(`KMS ${operation} did not answer within ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/**
 * Runs `fn` with an AbortSignal that fires after `ms`; rejects with KmsDeadlineError at that
 * moment even if `fn` ignores the signal (nothing waits past the deadline).
 */
export async function withDeadline<T>(
  operation: string,
  ms: number,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new KmsDeadlineError(operation, ms);
      ac.abort(e);
      reject(e);
    }, ms);
  });
  try {
    return await Promise.race([fn(ac.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
