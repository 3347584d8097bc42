/**
 * Canonical form (RFC 8785 / JCS) and hashing for log entries and checkpoints.
 *
 * One small module so the implementation can be switched in one place. The verifier
 * (`@kakunin/verifier`) uses the same npm `canonicalize` package, so server and verifier agree
 * byte for byte; hashing here is synchronous node:crypto (the appender hashes in its hot path).
 */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

export const ZERO_HASH = "0".repeat(64);

/** The RFC 8785 serialisation of `value`. Throws on values JSON cannot represent. */
export function canonicalText(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}

/** UTF-8 bytes of the RFC 8785 serialisation of `value`. Throws on values JSON cannot represent. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalText(value), "utf8");
}

export function sha256(bytes: Uint8Array): Buffer {
  return createHash("sha256").update(bytes).digest();
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** RFC 7468 PEM with 64-character lines. */
export function derToPem(der: Uint8Array, label: "CERTIFICATE" | "X509 CRL"): string {
  const b64 = toBase64(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
