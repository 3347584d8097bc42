/**
 * What a check found: the coded error, how bad it is, and the ETSI reason of the finding it
 * decides — the code's own (ERROR_REASONS), unless a step judges whatever it caught as one reason
 * (the trust root: UNTRUSTED_ROOT; unreadable input: FORMAT_FAILURE).
 */
import { malformed, reasonOf, VerificationError, type Reason } from "../errors.js";
import type { Finding } from "../report.js";

export interface CheckProblem {
  reason: Reason | undefined;
  error: VerificationError;
  level: "failed" | "indeterminate";
}

export const failed = (error: VerificationError, reason = reasonOf(error.code)): CheckProblem => ({
  reason,
  error,
  level: "failed",
});
export const indeterminate = (error: VerificationError, reason = reasonOf(error.code)): CheckProblem => ({
  reason,
  error,
  level: "indeterminate",
});

/** The finding a problem decides (FAILED or INDETERMINATE, its reason and code). */
export function findingOf(p: CheckProblem, where: { seq?: number; line?: number }): Finding {
  return {
    ...where,
    verdict: p.level === "failed" ? "FAILED" : "INDETERMINATE",
    ...(p.reason !== undefined ? { reason: p.reason } : {}),
    code: p.error.code,
    message: p.error.message,
  };
}

/** `e` as a VerificationError: itself, or ERR_MALFORMED naming what was thrown. */
export function asVerificationError(e: unknown): VerificationError {
  return e instanceof VerificationError ? e : malformed(String(e));
}

/** The input (or a part of it) cannot be read: FORMAT_FAILURE, whatever was thrown. */
export function unreadable(e: unknown): CheckProblem {
  return failed(asVerificationError(e), "FORMAT_FAILURE");
}

/** No trust root: UNTRUSTED_ROOT, whatever was thrown (a pin that does not match, is malformed, or is no CA). */
export function untrustedRoot(e: unknown): CheckProblem {
  return failed(asVerificationError(e), "UNTRUSTED_ROOT");
}
