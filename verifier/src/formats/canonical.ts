/**
 * Canonical form (FORMATS.md "Encodings"): UTF-8 of RFC 8785 JCS. The one implementation: the
 * server canonicalises what it signs with these, the verifier what it checks.
 */
import canonicalize from "canonicalize";
import { malformed } from "./errors.js";
import { utf8Encode, type Bytes } from "./bytes.js";
import type { UnsignedCheckpoint, UnsignedEntry } from "./wire.js";

/** A wire object as the server builds it, or attacker-controlled JSON as the verifier reads it. */
type WireObject<T> = T | Readonly<Record<string, unknown>>;

const SURROGATE = /[\uD800-\uDFFF]/;
const MAX_FAST_DEPTH = 256;

/** Characters JSON.stringify escapes, and surrogates (JCS: the reference decides). */
const SPECIAL = /["\\\u0000-\u001f\uD800-\uDFFF]/;
/** Set by {@link quote} when a string holds a surrogate; {@link fastJcs} saves and restores it. */
let sawSurrogate = false;

/** JSON.stringify of a string, without the builtin's call when nothing needs escaping (the common case). */
function quote(s: string): string {
  if (!SPECIAL.test(s)) return `"${s}"`;
  if (SURROGATE.test(s)) sawSurrogate = true;
  return JSON.stringify(s);
}

/** Quoted object keys: entries repeat a handful of keys. Bounded, so hostile input cannot grow it. */
const QUOTED_KEYS = new Map<string, string>();
function quoteKey(k: string): string {
  let q = QUOTED_KEYS.get(k);
  if (q === undefined) {
    q = quote(k);
    if (QUOTED_KEYS.size < 256 && !SURROGATE.test(k)) QUOTED_KEYS.set(k, q);
  }
  return q;
}

/**
 * RFC 8785 for the values JSON.parse produces (plain objects, arrays, strings, finite numbers,
 * booleans, null): sorted keys (UTF-16 code units), ECMAScript JSON.stringify for strings and
 * numbers. Returns undefined for anything else (non-finite numbers, undefined, class instances,
 * toJSON, deep nesting) so the caller falls back to `canonicalize`, the reference. A surrogate in
 * any string or key is flagged by {@link quote}, and {@link fastJcs} then returns undefined too.
 * `skip`: top-level keys to leave out (an entry's `hash` and `sig`).
 */
function fastJcsValue(v: unknown, depth: number, skip?: readonly string[]): string | undefined {
  switch (typeof v) {
    case "string":
      return quote(v);
    case "number":
      return Number.isFinite(v) ? JSON.stringify(v) : undefined;
    case "boolean":
      return v ? "true" : "false";
    case "object": {
      if (v === null) return "null";
      if (depth > MAX_FAST_DEPTH) return undefined;
      if (Array.isArray(v)) {
        if (Object.getPrototypeOf(v) !== Array.prototype) return undefined;
        let out = "[";
        for (let i = 0; i < v.length; i++) {
          const s = fastJcsValue(v[i], depth + 1);
          if (s === undefined) return undefined;
          out += i === 0 ? s : `,${s}`;
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return undefined;
      const o = v as Record<string, unknown>;
      if (typeof o.toJSON === "function") return undefined;
      const keys = Object.keys(o);
      // Exported objects are already in JCS order: check before sorting.
      for (let i = 1; i < keys.length; i++) {
        if (!(keys[i - 1]! < keys[i]!)) {
          keys.sort();
          break;
        }
      }
      let out = "{";
      let first = true;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (skip && skip.includes(k)) continue;
        const s = fastJcsValue(o[k], depth + 1);
        if (s === undefined) return undefined;
        out += first ? `${quoteKey(k)}:${s}` : `,${quoteKey(k)}:${s}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return undefined;
  }
}

/** {@link fastJcsValue}, or undefined when any string or key holds a surrogate. */
function fastJcs(v: unknown, depth: number, skip?: readonly string[]): string | undefined {
  const outer = sawSurrogate; // re-entered from a getter on a caller's object: keep the outer state
  sawSurrogate = false;
  try {
    const s = fastJcsValue(v, depth, skip);
    return sawSurrogate ? undefined : s;
  } finally {
    sawSurrogate = outer;
  }
}

/** RFC 8785 (JCS) text of `value`; throws what `canonicalize` throws (NaN, lone surrogate, cycle…). */
export function canonicalJson(value: unknown): string | undefined {
  return fastJcs(value, 0) ?? canonicalize(value);
}

/** `fast` if the fast path produced it, else the reference `canonicalize` of `slow()`; ERR_MALFORMED if not serialisable. */
function fastOrReference(fast: string | undefined, slow: () => unknown): string {
  if (fast !== undefined) return fast;
  let text: string | undefined;
  try {
    text = canonicalize(slow());
  } catch (e) {
    throw malformed(`cannot canonicalise: ${(e as Error).message}`);
  }
  if (text === undefined) throw malformed("cannot canonicalise undefined");
  return text;
}

function toCanonicalBytes(fast: string | undefined, slow: () => unknown): Bytes {
  return utf8Encode(fastOrReference(fast, slow));
}

/** The RFC 8785 (JCS) serialisation of `value`. Throws ERR_MALFORMED if not serialisable (NaN, lone surrogate, cycle, undefined…). */
export function canonicalText(value: unknown): string {
  return fastOrReference(fastJcs(value, 0), () => value);
}

/** UTF-8 bytes of the RFC 8785 (JCS) serialisation of `value`. Throws ERR_MALFORMED if not serialisable (NaN, lone surrogate, cycle, undefined…). */
export function canonicalBytes(value: unknown): Bytes {
  return toCanonicalBytes(fastJcs(value, 0), () => value);
}

/** The object that is hashed and signed: `obj` without the named fields (own properties only, prototype-safe). */
export function withoutFields(obj: Record<string, unknown>, ...fields: string[]): Record<string, unknown> {
  // fromEntries defines own data properties, so a hostile "__proto__" key stays an ordinary key.
  return Object.fromEntries(Object.entries(obj).filter(([k]) => !fields.includes(k)));
}

const ENTRY_UNSIGNED = ["hash", "sig"] as const;

/** Canonical bytes of an entry: JCS of the entry without `hash` and `sig`. */
export function entryCanonicalBytes(entry: WireObject<UnsignedEntry>): Bytes {
  return toCanonicalBytes(fastJcs(entry, 0, ENTRY_UNSIGNED), () =>
    withoutFields(entry as Record<string, unknown>, "hash", "sig"),
  );
}

/**
 * True when JSON.stringify(v) is already RFC 8785: every object's own keys are in strictly
 * ascending UTF-16 order (which also rules out array-index keys out of JCS order, since V8 lists
 * those first, numerically), numbers are finite, and objects are plain. Strings are the caller's
 * concern (surrogates). Bounded in depth.
 */
function stringifiesAsJcs(v: unknown, depth: number): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (typeof v !== "object" || v === null) return typeof v === "string" || typeof v === "boolean" || v === null;
  if (depth > MAX_FAST_DEPTH) return false;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype) return false;
    for (let i = 0; i < v.length; i++) if (!stringifiesAsJcs(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  const o = v as Record<string, unknown>;
  if (typeof o.toJSON === "function") return false;
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && !(keys[i - 1]! < keys[i]!)) return false;
    if (!stringifiesAsJcs(o[keys[i]!], depth + 1)) return false;
  }
  return true;
}

/**
 * {@link entryCanonicalBytes} as text (the UTF-8 encoding is left to the caller, e.g. a native
 * hasher). Fast path for entries as the server exports them (FORMATS.md: JCS order, then `hash`
 * and `sig` appended): the engine's JSON.stringify, with its output proven to be JCS by
 * {@link stringifiesAsJcs}, minus the `hash`/`sig` tail. Anything else takes the general path.
 */
export function entryCanonicalText(input: WireObject<UnsignedEntry>): string {
  const entry = input as Record<string, unknown>;
  const keys = Object.keys(entry);
  const n = keys.length;
  if (
    n > 2 &&
    keys[n - 2] === "hash" &&
    keys[n - 1] === "sig" &&
    typeof entry.hash === "string" &&
    typeof entry.sig === "string" &&
    Object.getPrototypeOf(entry) === Object.prototype
  ) {
    let ok = true;
    for (let i = 0; ok && i < n - 2; i++)
      ok = (i === 0 || keys[i - 1]! < keys[i]!) && stringifiesAsJcs(entry[keys[i]!], 1);
    if (ok) {
      const s = JSON.stringify(entry);
      const tail = `,"hash":${JSON.stringify(entry.hash)},"sig":${JSON.stringify(entry.sig)}}`;
      if (s.endsWith(tail) && !SURROGATE.test(s)) return `${s.slice(0, s.length - tail.length)}}`;
    }
  }
  return fastOrReference(fastJcs(entry, 0, ENTRY_UNSIGNED), () => withoutFields(entry, "hash", "sig"));
}

/** Canonical bytes of a checkpoint: JCS of the checkpoint without `sig`. */
export function checkpointCanonicalBytes(checkpoint: WireObject<UnsignedCheckpoint>): Bytes {
  return toCanonicalBytes(fastJcs(checkpoint, 0, ["sig"]), () =>
    withoutFields(checkpoint as Record<string, unknown>, "sig"),
  );
}
