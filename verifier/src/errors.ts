/**
 * Error classes with stable codes (in the style of jose's `errors`). Code strings never change;
 * messages may. Every verification problem in a {@link Report} carries one of these codes.
 */

/** Where in the input a problem was found. */
export interface ErrorLocation {
  /** 1-based line number in an export. */
  line?: number;
  /** The entry's sequence number the problem is pinned to. */
  seq?: number;
  /** Dotted path of the offending field, e.g. `entry.signer.cert`. */
  field?: string;
}

/** Base class: every error the verifier raises or reports has a stable `code`. */
export class KakuninError extends Error {
  /** Stable machine-readable code, e.g. `ERR_MALFORMED`. */
  static code = "ERR_KAKUNIN";
  code = "ERR_KAKUNIN";
  line?: number;
  seq?: number;
  field?: string;
  constructor(message: string, where: ErrorLocation = {}) {
    super(message);
    this.name = this.constructor.name;
    if (where.line !== undefined) this.line = where.line;
    if (where.seq !== undefined) this.seq = where.seq;
    if (where.field !== undefined) this.field = where.field;
  }
}

/** Input is not what FORMATS.md describes: bad JSON, missing or wrong-typed field, bad base64/PEM/DER, line too long. */
export class MalformedError extends KakuninError {
  static override code = "ERR_MALFORMED";
  override code = "ERR_MALFORMED";
}
/** The CA of the export/receipt/certificate is not the pinned trust anchor (or no CA matched the pinned fingerprint). */
export class UntrustedRootError extends KakuninError {
  static override code = "ERR_UNTRUSTED_ROOT";
  override code = "ERR_UNTRUSTED_ROOT";
}
/** A certificate is not signed by the pinned CA, or does not fit its profile (EKU, keyUsage, CA:FALSE, SAN, CN). */
export class CertPathError extends KakuninError {
  static override code = "ERR_CERT_PATH";
  override code = "ERR_CERT_PATH";
}
/** No usable CRL: missing, unparsable, not signed by the pinned CA, or thisUpdate in the future. */
export class CrlError extends KakuninError {
  static override code = "ERR_CRL";
  override code = "ERR_CRL";
}
/** The hash chain is broken: seq not contiguous, or prevHash is not the previous entry's hash. */
export class ChainBrokenError extends KakuninError {
  static override code = "ERR_CHAIN_BROKEN";
  override code = "ERR_CHAIN_BROKEN";
}
/** An entry belongs to another issuer's chain (entry.issuer differs from the export's issuer). */
export class WrongIssuerError extends KakuninError {
  static override code = "ERR_WRONG_ISSUER";
  override code = "ERR_WRONG_ISSUER";
}
/** The entry's `hash` is not SHA-256 of its canonical bytes. */
export class HashMismatchError extends KakuninError {
  static override code = "ERR_HASH_MISMATCH";
  override code = "ERR_HASH_MISMATCH";
}
/** The signature does not verify under the signer certificate's public key. */
export class SignatureInvalidError extends KakuninError {
  static override code = "ERR_SIG_INVALID";
  override code = "ERR_SIG_INVALID";
}
/** The entry names a signer certificate that the export/receipt does not contain. */
export class UnknownSignerError extends KakuninError {
  static override code = "ERR_UNKNOWN_SIGNER";
  override code = "ERR_UNKNOWN_SIGNER";
}
/** The signer is not allowed to sign this entry (agent cert of another agent, or a non-log cert on a lifecycle entry). */
export class SignerMismatchError extends KakuninError {
  static override code = "ERR_SIGNER_MISMATCH";
  override code = "ERR_SIGNER_MISMATCH";
}
/** Signed by a certificate after the chain recorded its revocation. */
export class RevokedError extends KakuninError {
  static override code = "ERR_REVOKED";
  override code = "ERR_REVOKED";
}
/** The entry's time is after the signer certificate's notAfter. */
export class ExpiredError extends KakuninError {
  static override code = "ERR_EXPIRED";
  override code = "ERR_EXPIRED";
}
/** The entry's time is before the signer certificate's notBefore. */
export class NotYetValidError extends KakuninError {
  static override code = "ERR_NOT_YET_VALID";
  override code = "ERR_NOT_YET_VALID";
}
/** Signed by a certificate after the chain recorded its rotation (`key.rotated`). */
export class SupersededError extends KakuninError {
  static override code = "ERR_SUPERSEDED";
  override code = "ERR_SUPERSEDED";
}
/** The export ends before its checkpoint says it should, or has no checkpoint at all. */
export class TruncatedError extends KakuninError {
  static override code = "ERR_TRUNCATED";
  override code = "ERR_TRUNCATED";
}
/** The checkpoint is invalid: bad signature, not by the log signer, wrong issuer, or head/size disagree with the entries. */
export class CheckpointError extends KakuninError {
  static override code = "ERR_CHECKPOINT";
  override code = "ERR_CHECKPOINT";
}
/** The supplied payload's SHA-256 differs from the entry's payloadHash. */
export class PayloadMismatchError extends KakuninError {
  static override code = "ERR_PAYLOAD_MISMATCH";
  override code = "ERR_PAYLOAD_MISMATCH";
}
/** The certificate is revoked and nothing proves the signature existed before the revocation (INDETERMINATE). */
export class NoPoeError extends KakuninError {
  static override code = "ERR_NO_POE";
  override code = "ERR_NO_POE";
}
/**
 * A lifecycle entry contradicts the certificates: `agent.registered` `cert`, or `key.rotated`
 * `oldCert`/`newCert`, is not a certificate of that agent; or an agent's entry after its
 * registration/rotation is signed by a certificate other than the one that entry names.
 */
export class LifecycleError extends KakuninError {
  static override code = "ERR_LIFECYCLE";
  override code = "ERR_LIFECYCLE";
}
/** An algorithm or format version this verifier does not implement. */
export class UnsupportedError extends KakuninError {
  static override code = "ERR_UNSUPPORTED";
  override code = "ERR_UNSUPPORTED";
}

/** Every stable code, for documentation and exhaustive tests. */
export const ERROR_CODES = [
  MalformedError, UntrustedRootError, CertPathError, CrlError, ChainBrokenError, WrongIssuerError,
  HashMismatchError, SignatureInvalidError, UnknownSignerError, SignerMismatchError, RevokedError,
  ExpiredError, NotYetValidError, SupersededError, TruncatedError, CheckpointError,
  PayloadMismatchError, NoPoeError, LifecycleError, UnsupportedError,
].map((c) => c.code);
