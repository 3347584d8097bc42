/**
 * Strict JSON for attacker-controlled text: RFC 8259 as restricted by RFC 7493 (I-JSON) —
 * no duplicate member names anywhere, nesting depth capped *before* parsing (so no parser or
 * canonicaliser recursion can be driven by the input), and, for bytes, UTF-8 decoding that
 * fails on invalid sequences instead of substituting U+FFFD. A byte order mark is accepted only
 * at byte 0 of a file (callers strip it there; anywhere else it is malformed JSON).
 *
 * Cost: one linear scan counting members (`:` outside strings) and depth; after JSON.parse the
 * parsed objects' keys are counted. A duplicate collapses two members into one key, so the counts
 * differ exactly when a duplicate exists; only then does a second, precise pass find its name.
 */
import { malformed } from "../errors.js";

/** Deepest nesting of arrays/objects accepted (the formats need < 10; payloads get headroom). */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const OPEN_OBJ = 123;
const OPEN_ARR = 91;
const CLOSE_OBJ = 125;
const CLOSE_ARR = 93;

/** Members (colons outside strings) and the deepest nesting, in one pass. */
function scan(text: string): { members: number; depth: number } {
  let members = 0;
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string (escapes included); an unterminated one is JSON.parse's to reject.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === COLON) members++;
    else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return { members, depth: max };
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) depth--;
  }
  return { members, depth: max };
}

/** Total own keys of every object in a parsed value (depth already bounded by the scan). */
function countKeys(v: unknown): number {
  if (typeof v !== "object" || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) n += countKeys(x);
    return n;
  }
  for (const k in v as Record<string, unknown>) n += 1 + countKeys((v as Record<string, unknown>)[k]);
  return n;
}

/**
 * The first duplicated member, as a dotted path (e.g. `entry.signer.cert`). Runs only when the
 * counts say a duplicate exists, on text JSON.parse accepted.
 */
function findDuplicate(text: string): string | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    for (i++; text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): string | undefined => {
    ws();
    const c = text.charCodeAt(i);
    if (c === OPEN_OBJ) {
      i++;
      const seen = new Set<string>();
      ws();
      if (text.charCodeAt(i) === CLOSE_OBJ) return (i++, undefined);
      for (;;) {
        ws();
        const k = str();
        const p = path ? `${path}.${k}` : k;
        if (seen.has(k)) return p;
        seen.add(k);
        ws();
        i++; // ':'
        const d = value(p);
        if (d) return d;
        ws();
        if (text.charCodeAt(i++) === CLOSE_OBJ) return undefined;
      }
    }
    if (c === OPEN_ARR) {
      i++;
      ws();
      if (text.charCodeAt(i) === CLOSE_ARR) return (i++, undefined);
      for (let n = 0; ; n++) {
        const d = value(`${path}[${n}]`);
        if (d) return d;
        ws();
        if (text.charCodeAt(i++) === CLOSE_ARR) return undefined;
      }
    }
    if (c === QUOTE) return (str(), undefined);
    while (i < text.length && !",]} \t\r\n".includes(text[i]!)) i++;
    return undefined;
  };
  return value("");
}

/**
 * JSON.parse for attacker-controlled text, strict per RFC 7493: depth ≤ {@link MAX_JSON_DEPTH}
 * (checked before parsing), no duplicate member names. Throws ERR_MALFORMED naming `field`, or
 * the duplicated member's path.
 */
export function parseStrictJson(text: string, field = "(line)", what = "line"): unknown {
  const { members, depth } = scan(text);
  if (depth > MAX_JSON_DEPTH) throw malformed(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`, { field });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed(`${what} is not valid JSON`, { field });
  }
  if (countKeys(value) !== members) {
    const dup = findDuplicate(text) ?? "(unknown)";
    throw malformed(`${what} has a duplicate member name ${dup} (RFC 7493: member names must be unique)`, {
      field: dup,
    });
  }
  return value;
}

/** UTF-8 that fails on invalid sequences, and keeps a BOM in the text (so that it is malformed there). */
export function strictUtf8Decoder(): TextDecoder {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
}

/** UTF-8 bytes EF BB BF. */
export function startsWithBom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}
