/** A problem found by a check: the ETSI reason, the coded error, and how bad it is. */
import type { KakuninError } from "../errors.js";
import type { Reason } from "../report.js";

export interface Problem {
  reason: Reason;
  error: KakuninError;
  level: "failed" | "indeterminate";
}

export const failed = (reason: Reason, error: KakuninError): Problem => ({ reason, error, level: "failed" });
export const indeterminate = (reason: Reason, error: KakuninError): Problem => ({ reason, error, level: "indeterminate" });
