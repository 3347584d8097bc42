/**
 * The server's side of the canonical form and hashing. The bytes are defined once, in
 * `@kakunin/verifier/formats` (RFC 8785, the same code the verifier checks with); here they are
 * hashed synchronously with node:crypto, because the appender hashes on its hot path (WebCrypto
 * is asynchronous only).
 */
import { createHash } from "node:crypto";
import { canonicalText } from "@kakunin/verifier/formats";

export { canonicalText, checkpointCanonicalBytes, entryCanonicalText, ZERO_HASH } from "@kakunin/verifier/formats";

/** UTF-8 bytes of the RFC 8785 serialisation of `value` (a Buffer, as the database drivers want). Throws ERR_MALFORMED on values JSON cannot represent. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalText(value), "utf8");
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
