/** Field validators for attacker-controlled JSON. Each failure is ERR_MALFORMED naming the field. */
import { malformed } from "../errors.js";

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function obj(parent: Json, key: string, path: string): Json {
  const v = parent[key];
  if (!isObject(v)) throw malformed(`${path}.${key} must be an object`, { field: `${path}.${key}` });
  return v;
}

/** A RegExp, or a hand-written matcher equivalent to one (hot fields). */
export interface Pattern {
  test(s: string): boolean;
}

export function str(parent: Json, key: string, path: string, pattern?: Pattern): string {
  const v = parent[key];
  if (typeof v !== "string") throw malformed(`${path}.${key} must be a string`, { field: `${path}.${key}` });
  if (pattern && !pattern.test(v)) throw malformed(`${path}.${key} has an invalid format`, { field: `${path}.${key}` });
  return v;
}

export function optStr(parent: Json, key: string, path: string): string | undefined {
  return parent[key] === undefined || parent[key] === null ? undefined : str(parent, key, path);
}

export function int(parent: Json, key: string, path: string, min = 0): number {
  const v = parent[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw malformed(`${path}.${key} must be an integer ≥ ${min}`, { field: `${path}.${key}` });
  }
  return v;
}

export const HASH_RE = /^[0-9a-f]{64}$/;
export const SERIAL_RE = /^[0-9a-f]{1,64}$/;
// Standard base64 with padding, non-empty; unambiguous, so linear on hostile input.
// Canonical (RFC 4648 §3.5): the pad bits of the last character are zero, so one byte string has
// exactly one encoding and a signature cannot be re-spelled.
export const B64_RE =
  /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)$/;

/** Same language as HASH_RE, without the regex engine (three per entry). */
export const HASH: Pattern = {
  test(s: string): boolean {
    if (s.length !== 64) return false;
    for (let i = 0; i < 64; i++) {
      const c = s.charCodeAt(i);
      if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
    }
    return true;
  },
};

const B64_CHAR = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") B64_CHAR[ch.charCodeAt(0)] = 1;
const isB64Char = (c: number) => c < 128 && B64_CHAR[c] === 1;
const B64_VALUE = new Uint8Array(128);
[..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].forEach(
  (ch, i) => (B64_VALUE[ch.charCodeAt(0)] = i),
);

/** The padding of a base64 string is canonical (pad bits zero); only the last characters are read. */
export function canonicalPadding(s: string): boolean {
  const n = s.length;
  if (n < 2 || s.charCodeAt(n - 1) !== 61) return true;
  const two = s.charCodeAt(n - 2) === 61;
  const c = s.charCodeAt(two ? n - 3 : n - 2);
  return c < 128 && (B64_VALUE[c]! & (two ? 0x0f : 0x03)) === 0;
}

/** Same language as B64_RE (non-empty, padded, canonical standard base64), without the regex engine. */
export const B64: Pattern = {
  test(s: string): boolean {
    const n = s.length;
    if (n === 0 || n % 4 !== 0) return false;
    let end = n;
    if (s.charCodeAt(n - 1) === 61) end = s.charCodeAt(n - 2) === 61 ? n - 2 : n - 1;
    for (let i = 0; i < end; i++) if (!isB64Char(s.charCodeAt(i))) return false;
    // Canonical: the unused low bits of the last character before the padding are zero.
    if (end < n) return (B64_VALUE[s.charCodeAt(end - 1)]! & (end === n - 2 ? 0x0f : 0x03)) === 0;
    return true;
  },
};

// RFC 3339 UTC with milliseconds, as Date#toISOString() writes it.
export const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Parses an RFC 3339 time field to epoch ms. */
export function time(parent: Json, key: string, path: string): number {
  const s = str(parent, key, path, TIME_RE);
  const ms = Date.parse(s);
  if (!Number.isFinite(ms)) throw malformed(`${path}.${key} is not a valid time`, { field: `${path}.${key}` });
  return ms;
}
