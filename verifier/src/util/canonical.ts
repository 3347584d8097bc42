/**
 * Canonical form (FORMATS.md "Encodings"): UTF-8 of RFC 8785 JCS. The server imports these so
 * producer and verifier canonicalise with one implementation.
 */
import canonicalize from "canonicalize";
import { MalformedError } from "../errors.js";
import { hexEncode, utf8Encode, type Bytes } from "./bytes.js";

/** UTF-8 bytes of the RFC 8785 (JCS) serialisation of `value`. Throws ERR_MALFORMED if not serialisable (NaN, lone surrogate, cycle…). */
export function canonicalBytes(value: unknown): Bytes {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (e) {
    throw new MalformedError(`cannot canonicalise: ${(e as Error).message}`);
  }
  if (text === undefined) throw new MalformedError("cannot canonicalise undefined");
  return utf8Encode(text);
}

/** Lowercase hex SHA-256 of `bytes` (WebCrypto). */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return hexEncode(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** The object that is hashed and signed: `obj` without the named fields (own properties only, prototype-safe). */
export function withoutFields(obj: Record<string, unknown>, ...fields: string[]): Record<string, unknown> {
  // fromEntries defines own data properties, so a hostile "__proto__" key stays an ordinary key.
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !fields.includes(k)));
}

/** Canonical bytes of an entry: JCS of the entry without `hash` and `sig`. */
export function entryCanonicalBytes(entry: Record<string, unknown>): Bytes {
  return canonicalBytes(withoutFields(entry, "hash", "sig"));
}

/** Canonical bytes of a checkpoint: JCS of the checkpoint without `sig`. */
export function checkpointCanonicalBytes(checkpoint: Record<string, unknown>): Bytes {
  return canonicalBytes(withoutFields(checkpoint, "sig"));
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

/** 64 zeros: prevHash of seq 0 and head of an empty chain. */
export const ZERO_HASH = "0".repeat(64);
