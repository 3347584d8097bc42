/**
 * Typed errors of the RFC 3161 client. Codes are stable; messages may change. Each is a
 * {@link VerificationError} with a fixed code; a class of its own so callers can tell them apart
 * with `instanceof` (a rejection also carries the TSA's status and failure bits).
 */
import { VerificationError, type ErrorLocation } from "../errors.js";

/** The reply or token is not DER of the RFC 3161 / RFC 5652 shape (or uses a form the client refuses). */
export class TimestampMalformedError extends VerificationError {
  constructor(message: string, where?: ErrorLocation) {
    super("ERR_TSA_MALFORMED", message, where);
  }
}

/** The TSA answered with a PKIStatus other than granted / grantedWithMods. */
export class TimestampRejectedError extends VerificationError {
  constructor(
    message: string,
    /** PKIStatus (2 rejection, 3 waiting, 4 revocationWarning, 5 revocationNotification). */
    readonly status: number,
    /** Names of the PKIFailureInfo bits set, e.g. ["badAlg"]. */
    readonly failInfo: readonly string[],
  ) {
    super("ERR_TSA_REJECTED", message, { field: "status" });
  }
}

/** The token does not cover what was asked: imprint, nonce, or policy differ. */
export class TimestampMismatchError extends VerificationError {
  constructor(message: string, where?: ErrorLocation) {
    super("ERR_TSA_MISMATCH", message, where);
  }
}

/** The CMS signature, a signed attribute or the ESSCertID binding does not verify. */
export class TimestampSignatureError extends VerificationError {
  constructor(message: string, where?: ErrorLocation) {
    super("ERR_TSA_SIGNATURE", message, where);
  }
}

/** The signer certificate is not a TSA certificate (EKU/keyUsage), or does not chain to the pinned TSA trust list. */
export class TimestampUntrustedError extends VerificationError {
  constructor(message: string, where?: ErrorLocation) {
    super("ERR_TSA_UNTRUSTED", message, where);
  }
}

/** The TSA could not be reached in time, or answered with something other than a TimeStampResp. */
export class TimestampUnavailableError extends VerificationError {
  constructor(
    message: string,
    /** `timeout`: no complete answer within the deadline; `network`: no connection (refused, reset, DNS); `http`: an answer that is not a TimeStampResp (status, content type, size). */
    readonly reason: "timeout" | "network" | "http" = "http",
    where: ErrorLocation = { field: "http" },
  ) {
    super("ERR_TSA_UNAVAILABLE", message, where);
  }
}
