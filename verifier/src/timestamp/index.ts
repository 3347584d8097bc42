/**
 * `@kakunin/verifier/timestamp`: an RFC 3161 / RFC 5816 time-stamping client. WebCrypto only.
 * Build a request with {@link buildTimestampRequest}, POST its `der` as `application/timestamp-query`,
 * and check the reply with {@link verifyTimestampResponse} against a pinned TSA trust list.
 * {@link validatePastSignature} uses verified tokens over checkpoints as proofs of existence.
 */
export { buildTimestampRequest, randomNonce, type TimestampRequest, type TimestampRequestOptions } from "./request.js";
export { extractTimestampToken, verifyTimestampResponse } from "./response.js";
export { verifyTimestampToken, type TimestampExpectation, type VerifiedTimestamp } from "./verify-token.js";
export { parseTsaTrustList } from "./trust-list.js";
export { fetchTimestamp, type FetchTimestampOptions } from "./fetch-timestamp.js";
export {
  TimestampMalformedError,
  TimestampMismatchError,
  TimestampRejectedError,
  TimestampSignatureError,
  TimestampUnavailableError,
  TimestampUntrustedError,
} from "./errors.js";
export { FAIL_INFO_BITS } from "./fail-info.js";
export { readTimestampToken, subjectName, type TimestampTokenInfo } from "./token-info.js";
export { encodeTimestampResponse } from "./encode-response.js";
export { parseTsaBundle, type TsaBundle } from "./tsa-bundle.js";
export { checkTsaRevocation, type TsaCertificateRevocation, type TsaRevocationResult } from "./tsa-revocation.js";
export { validatePastSignature } from "./poe.js";
export type * from "./poe-types.js";
