/**
 * Structural DER check before asn1js parses: asn1js accepts a constructed value whose length runs
 * past its parent or the buffer (it stops at the end), so a token with a changed length byte would
 * still "parse". Here every length must be definite and minimal and every constructed value must
 * be filled exactly by its children. Primitive contents are not looked into (an OCTET STRING that
 * holds DER, like eContent, is checked when it is parsed in turn).
 */
import { TimestampMalformedError } from "./errors.js";

const MAX_DEPTH = 64;

function fail(field: string, at: number, what: string): never {
  throw new TimestampMalformedError(`${field} is not DER: ${what} at byte ${at}`, { field });
}

/** Returns the offset just past the TLV at `at`, which must end by `limit`. */
function walk(b: Uint8Array, at: number, limit: number, depth: number, field: string): number {
  if (depth > MAX_DEPTH) fail(field, at, "nesting too deep");
  if (at >= limit) fail(field, at, "missing tag");
  const tag = b[at]!;
  let p = at + 1;
  if ((tag & 0x1f) === 0x1f) {
    // High tag number: base-128, no leading 0x80 octet.
    if (p >= limit || b[p] === 0x80) fail(field, at, "bad high tag number");
    while (p < limit && b[p]! & 0x80) p++;
    p++;
  }
  if (p >= limit) fail(field, at, "missing length");
  const first = b[p++]!;
  let len = first;
  if (first === 0x80) fail(field, at, "indefinite length");
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n > 4 || p + n > limit) fail(field, at, "length too long");
    if (b[p] === 0) fail(field, at, "non-minimal length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
    if (len < 0x80) fail(field, at, "non-minimal length");
  }
  const end = p + len;
  if (end > limit) fail(field, at, "length runs past its container");
  if (tag & 0x20) {
    let q = p;
    while (q < end) q = walk(b, q, end, depth + 1, field);
  }
  return end;
}

/** Throws ERR_TSA_MALFORMED unless `b` is exactly one well-formed, definite-length, minimally-encoded TLV tree. */
export function assertStrictDer(b: Uint8Array, field: string): void {
  const end = walk(b, 0, b.length, 0, field);
  if (end !== b.length) fail(field, end, "trailing bytes");
}
