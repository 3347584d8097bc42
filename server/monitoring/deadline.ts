import { DeadlineError } from "./errors.js";

/**
 * Runs `fn` with an AbortSignal that fires after `ms` and rejects with DeadlineError at that
 * moment even if `fn` ignores the signal: nothing in monitoring waits on S3 or a webhook past
 * its bound.
 */
export async function withDeadline<T>(what: string, ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new DeadlineError(what, ms);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
