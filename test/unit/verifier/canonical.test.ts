import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import {
  canonicalBytes,
  canonicalJson,
  checkpointCanonicalBytes,
  entryCanonicalBytes,
  withoutFields,
} from "../../../verifier/src/formats/canonical.js";

/** A small deterministic PRNG so failures reproduce. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CHARS = [
  "a",
  "Z",
  "0",
  '"',
  "\\",
  "/",
  "\n",
  "\t",
  "\u0000",
  "\u001f",
  "\u007f",
  "é",
  "€",
  "\u2028",
  "\u2029",
  "😀",
  "\uD800",
  "\uDFFF",
  "\uFEFF",
  " ",
  "__proto__",
  "toJSON",
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  1.5,
  1e21,
  1e-7,
  123456789012345680000,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_VALUE,
  5e-324,
  0.1 + 0.2,
  NaN,
  Infinity,
  -Infinity,
];

function value(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 5 : 8));
  if (k === 0) return null;
  if (k === 1) return r() < 0.5;
  if (k === 2) return NUMBERS[Math.floor(r() * NUMBERS.length)]!;
  if (k === 3) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
  if (k === 4) return str(r);
  if (k === 5) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[str(r)] = value(r, depth + 1);
  return o;
}
function str(r: () => number): string {
  let s = "";
  for (let i = Math.floor(r() * 6); i > 0; i--) s += CHARS[Math.floor(r() * CHARS.length)]!;
  return s;
}
/** What canonicalize says: its text, or that it throws. */
function reference(v: unknown): string {
  try {
    return `ok:${canonicalize(v)}`;
  } catch (e) {
    return `throws:${(e as Error).message}`;
  }
}
function ours(v: unknown): string {
  try {
    return `ok:${canonicalJson(v)}`;
  } catch (e) {
    return `throws:${(e as Error).message}`;
  }
}

describe("fast RFC 8785 canonicalisation", () => {
  it("equals canonicalize on 20,000 random JSON values (incl. surrogates, -0, exponents, NaN)", () => {
    const r = rng(8785);
    for (let i = 0; i < 20_000; i++) {
      const v = value(r, 0);
      expect(ours(v), JSON.stringify(v)).toBe(reference(v));
      // Through a JSON round trip too: what an export line parses to.
      const text = JSON.stringify(v);
      if (text !== undefined) {
        const parsed = JSON.parse(text);
        expect(ours(parsed)).toBe(reference(parsed));
      }
    }
  });
  it("falls back to canonicalize for unusual objects (toJSON, class instances, undefined, cycles)", () => {
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    const unusual: unknown[] = [
      { toJSON: () => ({ b: 1, a: 2 }) },
      new Date(0),
      { a: undefined, b: 1 },
      [undefined, 1],
      { d: new Map() },
      Object.create(null),
      Object.assign(Object.create(null), { z: 1, a: [1] }),
      cyc,
      JSON.parse('{"__proto__":{"x":1},"a":1}'),
    ];
    for (const v of unusual) expect(ours(v)).toBe(reference(v));
  });
  it("equals canonicalize for already-sorted objects, repeated keys and escape look-alikes", () => {
    const r = rng(2025);
    for (let i = 0; i < 5_000; i++) {
      const v = value(r, 0);
      // Sorted at every level (the exported shape), then parsed back like an export line.
      const ref = reference(v);
      const sorted = ref.startsWith("ok:") && ref !== "ok:undefined" ? JSON.parse(ref.slice(3)) : v;
      expect(ours(sorted)).toBe(reference(sorted));
      const keyed = { [str(r)]: sorted, a: str(r), "\\ud800": "\\udfff", k: { [str(r)]: 1, [str(r)]: str(r) } };
      expect(ours(keyed)).toBe(reference(keyed));
    }
    for (const v of [{ "\\ud83d": 1 }, { a: "\\ud83d\\ude00" }, { a: "x\uD83D\uDE00", b: "\uDE00" }, { "\uD800": 1 }])
      expect(ours(v)).toBe(reference(v));
  });
  it("entry and checkpoint bytes leave out hash/sig exactly as withoutFields + canonicalize", () => {
    const r = rng(41);
    const dec = new TextDecoder();
    for (let i = 0; i < 2_000; i++) {
      const e: Record<string, unknown> = {
        v: 1,
        seq: i,
        hash: "h",
        sig: "s",
        details: value(r, 1),
        [str(r)]: value(r, 2),
      };
      const ref = reference(withoutFields(e, "hash", "sig"));
      let got: string;
      try {
        got = `ok:${dec.decode(entryCanonicalBytes(e))}`;
      } catch {
        got = "throws";
      }
      expect(got.startsWith("ok:") ? got : "throws").toBe(ref.startsWith("ok:") ? ref : "throws");
      const cref = reference(withoutFields(e, "sig"));
      if (cref.startsWith("ok:")) expect(`ok:${dec.decode(checkpointCanonicalBytes(e))}`).toBe(cref);
      else expect(() => checkpointCanonicalBytes(e)).toThrow(expect.objectContaining({ code: "ERR_MALFORMED" }));
    }
    expect(() => canonicalBytes({ a: NaN })).toThrow(expect.objectContaining({ code: "ERR_MALFORMED" }));
    expect(() => canonicalBytes("\uD800")).toThrow(expect.objectContaining({ code: "ERR_MALFORMED" }));
  });
});

describe("hand-written field matchers", () => {
  it("HASH and B64 accept exactly what HASH_RE and B64_RE accept", async () => {
    const { B64, B64_RE, HASH, HASH_RE } = await import("../../../verifier/src/parse/fields.js");
    const r = rng(64);
    const alphabet = "AZaz09+/=-_0f9aFx \n\u00e9";
    for (let i = 0; i < 50_000; i++) {
      let s = "";
      const len = r() < 0.5 ? Math.floor(r() * 12) : 64 + Math.floor(r() * 3) - 1;
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(r() * alphabet.length)]!;
      expect(B64.test(s), s).toBe(B64_RE.test(s));
      expect(HASH.test(s), s).toBe(HASH_RE.test(s));
      const hex = Array.from({ length: 64 }, () => "0123456789abcdefA"[Math.floor(r() * 17)]).join("");
      expect(HASH.test(hex), hex).toBe(HASH_RE.test(hex));
      const b = Array.from({ length: 4 * (1 + Math.floor(r() * 3)) }, () => "ABab09+/="[Math.floor(r() * 9)]).join("");
      expect(B64.test(b), b).toBe(B64_RE.test(b));
    }
  });
});
