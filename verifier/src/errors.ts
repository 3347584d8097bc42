/**
 * The verifier's one error type, {@link VerificationError}, and its codes. Code strings never
 * change; messages may. Every problem in a {@link Report} carries one of {@link ERROR_CODES}, and a
 * finding's ETSI reason is looked up here ({@link ERROR_REASONS}), never chosen at the call site.
 * No imports: the wire formats (`src/formats/`) throw these too.
 */

/** ETSI EN 319 102-1-style sub-indication explaining a non-PASSED verdict. */
export type Reason =
  | "FORMAT_FAILURE"
  | "UNTRUSTED_ROOT"
  | "CERT_PATH_FAILURE"
  | "REVOCATION_UNKNOWN"
  | "WRONG_ISSUER"
  | "CHAIN_BROKEN"
  | "HASH_FAILURE"
  | "UNKNOWN_SIGNER"
  | "SIG_CRYPTO_FAILURE"
  | "SIGNER_MISMATCH"
  | "NOT_YET_VALID"
  | "EXPIRED"
  | "REVOKED"
  | "SUPERSEDED"
  | "NO_POE"
  | "PAYLOAD_MISMATCH"
  | "TRUNCATED"
  | "CHECKPOINT_FAILURE"
  | "LIFECYCLE_MISMATCH"
  | "INCLUSION_FAILURE"
  | "LOG_KEY_NOT_PINNED"
  | "WITNESS_QUORUM"
  | "EXPIRED_NO_POE"
  | "TIMESTAMP_FAILURE"
  | "TILE_FAILURE"
  | "CONSISTENCY_FAILURE"
  | "TREE_FAILURE"
  | "TREE_UNCHECKED";

/**
 * Every code a report can carry, with the reason of a finding it decides (README "Error codes").
 * ERR_UNSUPPORTED is reserved and has none.
 */
export const ERROR_REASONS = {
  /** Input is not what FORMATS.md describes: bad JSON, missing or wrong-typed field, bad base64/PEM/DER, line too long. */
  ERR_MALFORMED: "FORMAT_FAILURE",
  /** The CA of the export/receipt/certificate is not the pinned trust anchor (or no CA matched the pinned fingerprint). */
  ERR_UNTRUSTED_ROOT: "UNTRUSTED_ROOT",
  /** A certificate is not signed by the pinned CA, or does not fit its profile (EKU, keyUsage, CA:FALSE, SAN, CN). */
  ERR_CERT_PATH: "CERT_PATH_FAILURE",
  /** No usable CRL: missing, unparsable, not signed by the pinned CA, thisUpdate in the future, or stale. */
  ERR_CRL: "REVOCATION_UNKNOWN",
  /** The hash chain is broken: seq not contiguous, or prevHash is not the previous entry's hash. */
  ERR_CHAIN_BROKEN: "CHAIN_BROKEN",
  /** An entry belongs to another issuer's chain (entry.issuer differs from the export's issuer). */
  ERR_WRONG_ISSUER: "WRONG_ISSUER",
  /** The entry's `hash` is not SHA-256 of its canonical bytes. */
  ERR_HASH_MISMATCH: "HASH_FAILURE",
  /** The signature does not verify under the signer certificate's public key. */
  ERR_SIG_INVALID: "SIG_CRYPTO_FAILURE",
  /** The entry names a signer certificate that the export/receipt does not contain. */
  ERR_UNKNOWN_SIGNER: "UNKNOWN_SIGNER",
  /** The signer may not sign this entry (agent cert of another agent, or a non-log cert on a lifecycle entry). */
  ERR_SIGNER_MISMATCH: "SIGNER_MISMATCH",
  /** Signed by a certificate after the chain recorded its revocation. */
  ERR_REVOKED: "REVOKED",
  /** The entry's time is after the signer certificate's notAfter. */
  ERR_EXPIRED: "EXPIRED",
  /** The entry's time is before the signer certificate's notBefore. */
  ERR_NOT_YET_VALID: "NOT_YET_VALID",
  /** Signed by a certificate after the chain recorded its rotation (`key.rotated`). */
  ERR_SUPERSEDED: "SUPERSEDED",
  /** The export ends before its checkpoint says it should, or has no checkpoint at all. */
  ERR_TRUNCATED: "TRUNCATED",
  /** The checkpoint is invalid: bad signature, not by the log signer, wrong issuer, or head/size disagree with the entries. */
  ERR_CHECKPOINT: "CHECKPOINT_FAILURE",
  /** The supplied payload's SHA-256 differs from the entry's payloadHash. */
  ERR_PAYLOAD_MISMATCH: "PAYLOAD_MISMATCH",
  /** The certificate is revoked and nothing proves the signature existed before the revocation (INDETERMINATE). */
  ERR_NO_POE: "NO_POE",
  /**
   * A lifecycle entry contradicts the certificates (a `cert`/`oldCert`/`newCert` of another agent,
   * or the same one as old and new), or an agent signs with a certificate no registration or
   * rotation entry announces.
   */
  ERR_LIFECYCLE: "LIFECYCLE_MISMATCH",
  /** An algorithm or format version this verifier does not implement (reserved). */
  ERR_UNSUPPORTED: undefined,
  /**
   * kakunin-receipt/2: the tlog proof does not put this entry in the checkpoint's tree (unreadable
   * proof, index is not the entry's seq, proof does not lead to the checkpoint's root), or the
   * checkpoint's origin is not `<log name>/<the entry's issuer>`.
   */
  ERR_INCLUSION: "INCLUSION_FAILURE",
  /** kakunin-receipt/2: the checkpoint note's log signature is invalid, or no pinned log key signed it. */
  ERR_LOG_SIGNATURE: "CHECKPOINT_FAILURE",
  /** kakunin-receipt/2 verified without a pinned log key (`--log-key` / `--policy`): the inclusion proves nothing yet (INDETERMINATE). */
  ERR_LOG_KEY_NOT_PINNED: "LOG_KEY_NOT_PINNED",
  /** The checkpoint lacks the policy's quorum of valid witness cosignatures (INDETERMINATE; the missing witnesses are named). */
  ERR_WITNESS_QUORUM: "WITNESS_QUORUM",
  /** A cosignature line by a pinned witness key does not verify (FAILED). */
  ERR_COSIGNATURE: "CHECKPOINT_FAILURE",
  /** The certificate expired before the validation time and no timestamp proves the signature came first (INDETERMINATE). */
  ERR_EXPIRED_NO_POE: "EXPIRED_NO_POE",
  /** A timestamp token in the receipt is tampered: its bytes do not verify (FAILED). */
  ERR_TIMESTAMP: "TIMESTAMP_FAILURE",
  /**
   * `kakunin-verify tiles`: a hash tile is not the log's (wrong length, or its hashes are not the
   * roots of the tiles below it), or a tile the checkpoint covers is not served (INDETERMINATE).
   */
  ERR_TILE: "TILE_FAILURE",
  /** `kakunin-verify tiles --entries`: an entry bundle is unreadable, has the wrong count, or an entry's leaf hash is not the level-0 tile's. */
  ERR_ENTRY_BUNDLE: "TILE_FAILURE",
  /**
   * The tree does not give the signed root: `tiles` — the root recomputed from the tiles is not the
   * checkpoint's; `log` (export) — a tree-checkpoint line's root is not the root the export's
   * entries give at its size, or its origin is not `<log name>/<issuer>`. FAILED.
   */
  ERR_TREE_ROOT: "TREE_FAILURE",
  /**
   * `--since OLD` (`tiles` and `log`): the log's tree has another root at OLD's size (FAILED: the log
   * showed two histories, both notes are the evidence), or `tiles` finds it smaller than OLD
   * (INDETERMINATE: not shown).
   */
  ERR_CONSISTENCY: "CONSISTENCY_FAILURE",
  /**
   * Export (log v2): tree checks were asked for (a log key pinned, or `--since`) but cannot be made:
   * the export starts after seq 0, does not reach the `--since` size, or that checkpoint is unusable (INDETERMINATE).
   */
  ERR_TREE_UNCHECKED: "TREE_UNCHECKED",
} as const satisfies Record<`ERR_${string}`, Reason | undefined>;

/** A code a report can carry. */
export type ReportErrorCode = keyof typeof ERROR_REASONS;

/** Codes of the log v2 primitives (`@kakunin/verifier/formats`): thrown to the caller, not in v1 reports. */
export type FormatErrorCode =
  /** A Merkle inclusion or consistency proof does not verify (or its sizes/hashes are malformed). */
  | "ERR_PROOF"
  /** A signed note, checkpoint, verifier key or tile path is not byte-exact to its C2SP spec. */
  | "ERR_NOTE_FORMAT"
  /** A signature from a known key failed, or no known key signed the note. */
  | "ERR_NOTE_SIGNATURE"
  /** A trust policy file that is not C2SP tlog-policy (line and field named). */
  | "ERR_POLICY";

/** Codes of the RFC 3161 client (`@kakunin/verifier/timestamp`, see its errors.ts). */
export type TimestampErrorCode =
  | "ERR_TSA_MALFORMED"
  | "ERR_TSA_REJECTED"
  | "ERR_TSA_MISMATCH"
  | "ERR_TSA_SIGNATURE"
  | "ERR_TSA_UNTRUSTED"
  | "ERR_TSA_UNAVAILABLE";

export type ErrorCode = ReportErrorCode | FormatErrorCode | TimestampErrorCode;

/** Every code a report can carry, for documentation and exhaustive tests. */
export const ERROR_CODES = Object.keys(ERROR_REASONS) as ReportErrorCode[];

/** The ETSI reason of a finding decided by an error with `code` (undefined: the code has none). */
export function reasonOf(code: ErrorCode): Reason | undefined {
  return (ERROR_REASONS as Readonly<Record<string, Reason | undefined>>)[code];
}

/** Where in the input a problem was found. */
export interface ErrorLocation {
  /** 1-based line number in an export. */
  line?: number;
  /** The entry's sequence number the problem is pinned to. */
  seq?: number;
  /** Dotted path of the offending field, e.g. `entry.signer.cert`. */
  field?: string;
}

/** Every error the verifier (and the wire formats) raises or reports: a stable `code`, a message, a location. */
export class VerificationError extends Error {
  /** Stable machine-readable code, e.g. `ERR_MALFORMED`. */
  readonly code: ErrorCode;
  line?: number;
  seq?: number;
  field?: string;
  constructor(code: ErrorCode, message: string, where: ErrorLocation = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    if (where.line !== undefined) this.line = where.line;
    if (where.seq !== undefined) this.seq = where.seq;
    if (where.field !== undefined) this.field = where.field;
  }
}

/** ERR_MALFORMED, the most common error: input that is not what FORMATS.md describes. */
export function malformed(message: string, where: ErrorLocation = {}): VerificationError {
  return new VerificationError("ERR_MALFORMED", message, where);
}
