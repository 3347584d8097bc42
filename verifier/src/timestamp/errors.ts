/**
 * Typed errors of the RFC 3161 client. Codes are stable; messages may change.
 */
import { KakuninError } from "../errors.js";

/** The reply or token is not DER of the RFC 3161 / RFC 5652 shape (or uses a form the client refuses). */
export class TimestampMalformedError extends KakuninError {
  static override code = "ERR_TSA_MALFORMED";
  override code = "ERR_TSA_MALFORMED";
}

/** The TSA answered with a PKIStatus other than granted / grantedWithMods. */
export class TimestampRejectedError extends KakuninError {
  static override code = "ERR_TSA_REJECTED";
  override code = "ERR_TSA_REJECTED";
  constructor(
    message: string,
    /** PKIStatus (2 rejection, 3 waiting, 4 revocationWarning, 5 revocationNotification). */
    readonly status: number,
    /** Names of the PKIFailureInfo bits set, e.g. ["badAlg"]. */
    readonly failInfo: readonly string[],
  ) {
    super(message, { field: "status" });
  }
}

/** The token does not cover what was asked: imprint, nonce, or policy differ. */
export class TimestampMismatchError extends KakuninError {
  static override code = "ERR_TSA_MISMATCH";
  override code = "ERR_TSA_MISMATCH";
}

/** The CMS signature, a signed attribute or the ESSCertID binding does not verify. */
export class TimestampSignatureError extends KakuninError {
  static override code = "ERR_TSA_SIGNATURE";
  override code = "ERR_TSA_SIGNATURE";
}

/** The signer certificate is not a TSA certificate (EKU/keyUsage), or does not chain to the pinned TSA trust list. */
export class TimestampUntrustedError extends KakuninError {
  static override code = "ERR_TSA_UNTRUSTED";
  override code = "ERR_TSA_UNTRUSTED";
}

/** The TSA could not be reached in time, or answered with something other than a TimeStampResp. */
export class TimestampUnavailableError extends KakuninError {
  static override code = "ERR_TSA_UNAVAILABLE";
  override code = "ERR_TSA_UNAVAILABLE";
  constructor(
    message: string,
    /** `timeout`: no complete answer within the deadline; `network`: no connection (refused, reset, DNS); `http`: an answer that is not a TimeStampResp (status, content type, size). */
    readonly reason: "timeout" | "network" | "http" = "http",
  ) {
    super(message, { field: "http" });
  }
}
