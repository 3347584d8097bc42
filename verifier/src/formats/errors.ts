/**
 * Errors of the wire formats: the verifier's one {@link VerificationError}, with the codes
 * ERR_MALFORMED (bad base64, hex, UTF-8, PEM, non-serialisable JSON), ERR_PROOF, ERR_NOTE_FORMAT
 * and ERR_NOTE_SIGNATURE. Codes never change.
 */
export { malformed, VerificationError, type ErrorCode, type ErrorLocation } from "../errors.js";
