/** Plain-language wording of verdicts and reasons, for readers who are not cryptographers. */

export type Verdict = "PASSED" | "FAILED" | "INDETERMINATE";

export const VERDICT_WORD: Record<Verdict, string> = {
  PASSED: "Valid",
  FAILED: "Invalid",
  INDETERMINATE: "Cannot be determined",
};

export const VERDICT_CLASS: Record<Verdict, string> = {
  PASSED: "verdict-valid",
  FAILED: "verdict-invalid",
  INDETERMINATE: "verdict-indeterminate",
};

/** By error code (ERR_…) and by ETSI sub-indication. */
const PLAIN: Record<string, string> = {
  ERR_MALFORMED: "The input is not in the expected format, so it cannot be checked.",
  FORMAT_FAILURE: "The input is not in the expected format, so it cannot be checked.",
  ERR_UNTRUSTED_ROOT:
    "The certificates do not lead to the certificate authority this portal trusts. The evidence may come from another (possibly fake) authority.",
  UNTRUSTED_ROOT:
    "The certificates do not lead to the certificate authority this portal trusts. The evidence may come from another (possibly fake) authority.",
  ERR_CERT_PATH:
    "The agent's certificate was not issued by the trusted certificate authority, or is not a valid agent certificate.",
  CERT_PATH_FAILURE:
    "The agent's certificate was not issued by the trusted certificate authority, or is not a valid agent certificate.",
  ERR_CRL: "The revocation list could not be used, so it is unknown whether the certificate was revoked.",
  REVOCATION_UNKNOWN: "It cannot be established whether the certificate was revoked.",
  ERR_CHAIN_BROKEN: "The log's chain of records is broken here: an entry was deleted, inserted or moved.",
  CHAIN_BROKEN: "The log's chain of records is broken here: an entry was deleted, inserted or moved.",
  ERR_WRONG_ISSUER: "This entry belongs to a different firm's log.",
  WRONG_ISSUER: "This entry belongs to a different firm's log.",
  ERR_HASH_MISMATCH: "The record was changed after it was signed: its contents no longer match its fingerprint.",
  HASH_FAILURE: "The record was changed after it was signed: its contents no longer match its fingerprint.",
  ERR_SIG_INVALID: "The signature does not match: the content was altered, or it was not signed with this agent's key.",
  SIG_CRYPTO_FAILURE:
    "The signature does not match: the content was altered, or it was not signed with this agent's key.",
  ERR_UNKNOWN_SIGNER: "The certificate of whoever signed this is missing, so the signature cannot be checked.",
  UNKNOWN_SIGNER: "The certificate of whoever signed this is missing, so the signature cannot be checked.",
  ERR_SIGNER_MISMATCH:
    "The record was signed by a certificate that is not allowed to sign it (for example another agent's).",
  SIGNER_MISMATCH:
    "The record was signed by a certificate that is not allowed to sign it (for example another agent's).",
  ERR_REVOKED: "The record was signed after the agent's certificate had been revoked.",
  REVOKED: "The record was signed after the agent's certificate had been revoked.",
  ERR_EXPIRED: "The record was signed after the agent's certificate had expired.",
  EXPIRED: "The record was signed after the agent's certificate had expired.",
  ERR_NOT_YET_VALID: "The record claims a time before the agent's certificate was issued.",
  NOT_YET_VALID: "The record claims a time before the agent's certificate was issued.",
  ERR_SUPERSEDED: "The record was signed with a key that had already been replaced (rotated out).",
  SUPERSEDED: "The record was signed with a key that had already been replaced (rotated out).",
  ERR_TRUNCATED:
    "The log is incomplete: it ends before the point its signed checkpoint vouches for, or has no checkpoint.",
  TRUNCATED: "The log is incomplete: it ends before the point its signed checkpoint vouches for, or has no checkpoint.",
  ERR_CHECKPOINT: "The log's signed checkpoint does not match the entries, or its signature is not valid.",
  CHECKPOINT_FAILURE: "The log's signed checkpoint does not match the entries, or its signature is not valid.",
  ERR_PAYLOAD_MISMATCH: "The payload you supplied is not the one the agent signed for.",
  PAYLOAD_MISMATCH: "The payload you supplied is not the one the agent signed for.",
  ERR_NO_POE:
    "The agent's certificate has been revoked, and nothing here proves that this was signed before the revocation.",
  NO_POE:
    "The agent's certificate has been revoked, and nothing here proves that this was signed before the revocation.",
  REVOKED_NO_POE:
    "The agent's certificate has been revoked, and nothing here proves that this was signed before the revocation.",
  ERR_EXPIRED_NO_POE:
    "The agent's certificate had expired by the time this receipt is judged as at, and nothing here proves that it was signed while the certificate was still valid.",
  EXPIRED_NO_POE:
    "The agent's certificate had expired by the time this receipt is judged as at, and nothing here proves that it was signed while the certificate was still valid.",
  ERR_TIMESTAMP: "A timestamp in this receipt has been altered or forged: its signature does not verify.",
  TIMESTAMP_FAILURE: "A timestamp in this receipt has been altered or forged: its signature does not verify.",
  ERR_UNSUPPORTED: "This uses an algorithm or format version this portal does not support.",
};

export function plainReason(code?: string, reason?: string): string | undefined {
  return (code && PLAIN[code]) || (reason && PLAIN[reason]) || undefined;
}

export const STEP_STATUS: Record<string, string> = {
  passed: "passed",
  failed: "failed",
  skipped: "not performed",
  indeterminate: "inconclusive",
};
