/**
 * `@kakunin/verifier/timestamp`: an RFC 3161 / RFC 5816 time-stamping client. WebCrypto only.
 * Build a request with {@link buildTimestampRequest}, POST its `der` as `application/timestamp-query`,
 * and check the reply with {@link verifyTimestampResponse} against a pinned TSA trust list.
 */
export { buildTimestampRequest, randomNonce, type TimestampRequest, type TimestampRequestOptions } from "./request.js";
export { extractTimestampToken, verifyTimestampResponse } from "./response.js";
export { verifyTimestampToken, type TimestampExpectation, type VerifiedTimestamp } from "./verify-token.js";
export { parseTsaTrustList } from "./trust-list.js";
export { fetchTimestamp, type FetchTimestampOptions } from "./fetch-timestamp.js";
export { TimestampMalformedError, TimestampMismatchError, TimestampRejectedError, TimestampSignatureError, TimestampUnavailableError, TimestampUntrustedError } from "./errors.js";
export { FAIL_INFO_BITS } from "./fail-info.js";
