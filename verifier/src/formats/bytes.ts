/**
 * Byte helpers shared by the verifier, the server and the portal. Pure: no I/O, no Node APIs.
 * Typed `Uint8Array<ArrayBuffer>` so the results pass straight to WebCrypto as `BufferSource`.
 */
import { malformed } from "./errors.js";

export type Bytes = Uint8Array<ArrayBuffer>;

const encoder = new TextEncoder();
// fatal: invalid UTF-8 in attacker-supplied bytes is an error, not U+FFFD.
const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8Encode(text: string): Bytes {
  return encoder.encode(text) as Bytes;
}

/** Decodes UTF-8, throwing ERR_MALFORMED on invalid sequences. */
export function utf8Decode(bytes: Uint8Array, field = "bytes"): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw malformed(`${field} is not valid UTF-8`, { field });
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of bytes. */
export function hexEncode(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** Decodes hex (either case; colons allowed between bytes). Throws ERR_MALFORMED. */
export function hexDecode(text: string, field = "hex"): Bytes {
  const clean = text.replace(/:/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw malformed(`${field} is not valid hex`, { field });
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out as Bytes;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Standard base64 with padding. */
export function base64Encode(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + "=";
  }
  return out;
}

/**
 * Strict standard base64 (padding required, no whitespace unless `allowWhitespace`).
 * The input is attacker-controlled: any stray character is ERR_MALFORMED, never silently skipped.
 */
export function base64Decode(text: string, field = "base64", allowWhitespace = false): Bytes {
  const s = allowWhitespace ? text.replace(/[\r\n\t ]/g, "") : text;
  if (s.length % 4 !== 0) throw malformed(`${field} is not valid base64 (length)`, { field });
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const isPad = c === 61 && i + 4 === s.length && j >= 4 - pad;
      const v = isPad ? 0 : c < 128 ? B64_INDEX[c]! : -1;
      if (v < 0) throw malformed(`${field} is not valid base64`, { field });
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out as Bytes;
}

/** Constant-shape byte equality (length first): every byte is compared, whatever differs. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** Copies any view into a fresh ArrayBuffer-backed Uint8Array. */
export function toBytes(view: ArrayBuffer | ArrayBufferView): Bytes {
  if (view instanceof ArrayBuffer) return new Uint8Array(view.slice(0)) as Bytes;
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)) as Bytes;
}
