/**
 * @kakunin/verifier — offline verification of Kakunin receipts, bare signatures and exported
 * audit logs. WebCrypto only, no I/O: runs unchanged in Node and in browsers.
 * @packageDocumentation
 */

/** Verify one `kakunin-receipt/1`. */
export { verifyReceipt, RECEIPT_FORMAT, RECEIPT_V2_FORMAT, type VerifyReceiptOptions } from "./verify-receipt.js";
/** The pinned trust material of a receipt: CA, log keys, witness policy, TSA list. */
export { trustMaterialOf, pinnedLogKeys, type TrustMaterial, type TrustInput } from "./trust/material.js";
/** Verify a `kakunin-log/1` export, streaming. */
export { verifyExport, verifyExportBytes, type VerifyExportOptions } from "./export/index.js";
/** Verify a bare signature with a certificate. */
export { verifySignature, type VerifySignatureOptions } from "./verify-signature.js";
/** Check a published log (C2SP tlog-tiles) against pinned trust; the caller fetches (`kakunin-verify tiles`, a portal). */
export {
  checkTiles,
  type CheckTilesInput,
  type FetchTile,
  type TilesReport,
  type TilesFinding,
  type TilesStep,
  type TreeHasher,
} from "./checks/tiles/index.js";
/** Render a report as text. */
export { formatReport } from "./format.js";
/** Report types. */
export type {
  Report,
  Finding,
  Step,
  Verdict,
  Reason,
  ReportError,
  ReportSubject,
  ReportLog,
  ReportPoe,
} from "./report.js";
/** The pinned trust anchor and fingerprint normalisation. */
export { normaliseFingerprint, type TrustAnchor } from "./trust/anchor.js";
/** The pool interface for parallel verification, and the in-thread default. */
export { InThreadPool, type SignaturePool } from "./pool.js";
/** What a worker (Node or Web Worker) runs: pkijs-free per-line verification. */
export {
  LineVerifier,
  parseLine,
  MAX_LINE_LENGTH,
  type KeyTable,
  type LineResult,
  type LineCrypto,
} from "./worker-core.js";
/** The one error type, its stable codes, and the code → ETSI reason table. */
export {
  VerificationError,
  ERROR_CODES,
  ERROR_REASONS,
  reasonOf,
  type ErrorCode,
  type ReportErrorCode,
  type ErrorLocation,
} from "./errors.js";
/** Canonical form and hashing, from `@kakunin/verifier/formats` (the server uses these to produce what this verifies). */
export { canonicalBytes, entryCanonicalBytes, checkpointCanonicalBytes } from "./formats/canonical.js";
export { entryHash, payloadHash, sha256Hex, ZERO_HASH } from "./formats/hash.js";
/** Byte, base64, hex and PEM helpers. */
export {
  utf8Encode,
  utf8Decode,
  hexEncode,
  hexDecode,
  base64Encode,
  base64Decode,
  bytesEqual,
  type Bytes,
} from "./formats/bytes.js";
export { pemEncode, pemDecode, pemDecodeAll, type PemBlock } from "./formats/pem.js";
/** Signature verification primitives. */
export { KeyCache, verifyRsa, type SigningAlgorithm } from "./crypto.js";
/** Entry/checkpoint shape checks. */
export { parseEntry, parseCheckpoint, type EntryFields, type CheckpointFields } from "./parse/entry.js";
