/**
 * SHA-256 over WebCrypto and the hashes FORMATS.md defines: an entry's `hash`, a `payloadHash`,
 * and the all-zero hash that stands before the first entry.
 */
import { hexEncode, type Bytes } from "./bytes.js";
import { canonicalBytes, entryCanonicalBytes } from "./canonical.js";

/** 64 zeros: prevHash of seq 0 and head of an empty chain. */
export const ZERO_HASH = "0".repeat(64);

/** SHA-256 of `bytes` (WebCrypto). */
export async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<Bytes> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)) as Bytes;
}

/** Lowercase hex SHA-256 of `bytes` (WebCrypto). */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return hexEncode(await sha256(bytes));
}

/** An entry's hash: lowercase hex SHA-256 of its canonical bytes. */
export async function entryHash(entry: Record<string, unknown>): Promise<string> {
  return sha256Hex(entryCanonicalBytes(entry));
}

/** The payloadHash for a payload: SHA-256 of JCS bytes for JSON (`{ json }`), of the raw bytes otherwise. */
export async function payloadHash(payload: Uint8Array | { json: unknown }): Promise<string> {
  if (payload instanceof Uint8Array) return sha256Hex(new Uint8Array(payload) as Bytes);
  return sha256Hex(canonicalBytes(payload.json));
}
