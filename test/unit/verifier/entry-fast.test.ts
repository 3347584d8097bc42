/**
 * The fast line parser must never disagree with the general one: whenever parseEntryLineFast
 * answers, parseLine → parseEntry → entryCanonicalText must give the same fields and the same
 * canonical text (its `sig` is checked by the caller). Checked on real lines and on many random
 * mutations of them; plus entryCanonicalText against the reference `canonicalize`.
 */
import canonicalize from "canonicalize";
import { beforeAll, describe, expect, it } from "vitest";
import { parseEntry } from "../../../verifier/src/parse/entry.js";
import { parseEntryLineFast } from "../../../verifier/src/parse/entry-fast.js";
import { B64 } from "../../../verifier/src/parse/fields.js";
import { entryCanonicalText, withoutFields } from "../../../verifier/src/formats/canonical.js";
import { parseLine } from "../../../verifier/src/worker-core.js";
import { scenario } from "./fixtures/scenario.js";
import { rng } from "./fixtures/rng.js";
import * as t from "./tamper.js";

let lines: string[];
beforeAll(async () => {
  lines = t.serverFormat((await scenario()).lines).filter((l) => l.startsWith('{"kind":"entry"'));
}, 120_000);

/** The general path's answer, or the error it throws. */
function general(line: string) {
  try {
    const v = parseLine(line);
    if (v.kind !== "entry") return { error: "not an entry" };
    const entry = parseEntry(v.entry, "entry");
    return { entry, canonical: entryCanonicalText(v.entry as Record<string, unknown>) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * Fast ⊆ general: if fast answers with a `sig` that is strict base64 (what its caller checks before
 * using the answer), the general path gives the same fields and canonical text. A `sig` that is not
 * base64 sends the caller to the general path (e.g. `"sig":"QUFB","x":"y"}}` is an extra field).
 */
function agree(line: string): boolean {
  const fast = parseEntryLineFast(line);
  if (!fast || !B64.test(fast.entry.sig)) return false;
  expect(general(line), line).toEqual({ entry: fast.entry, canonical: fast.canonical });
  return true;
}

const ALPHABET = [
  '"',
  "\\",
  " ",
  "\n",
  "{",
  "}",
  ",",
  ":",
  "0",
  "1",
  "9",
  "a",
  "f",
  "g",
  "A",
  "=",
  "+",
  "/",
  ".",
  "-",
  "é",
  "\u2028",
  "\uD800",
  "\u0000",
  "\u007f",
];

describe("parseEntryLineFast", () => {
  it("recognises the operations of a server-format export and agrees with the general path", () => {
    const ops = lines.filter((l) => l.includes('"type":"agent.operation"'));
    expect(ops.length).toBeGreaterThan(3);
    for (const l of ops) expect(agree(l)).toBe(true);
    // Lifecycle entries (details with certificates) always take the general path.
    for (const l of lines.filter((l) => !l.includes('"type":"agent.operation"')))
      expect(parseEntryLineFast(l)).toBeUndefined();
  });

  it("declines what it cannot prove canonical: whitespace, escapes, key order, extra fields, number forms, surrogates", () => {
    const op = lines.find((l) => l.includes('"type":"agent.operation"'))!;
    const declined = [
      op.replace('"seq":', '"seq": '),
      op.replace('{"agent"', '{ "agent"'),
      op.replace('"agent":"agt_', '"agent":"\\u0061gt_'),
      op.replace(/"seq":(\d+)/, '"seq":$1.0'),
      op.replace(/"seq":(\d+)/, '"seq":0$1'),
      op.replace(/"seq":(\d+)/, '"seq":$1e0'),
      op.replace('"v":1', '"v":1.0'),
      op.replace('"v":1', '"v":1,"x":1'),
      op.replace('"agent":"agt_', '"agent":"\uD800agt_'),
      op.replace('{"kind":"entry","entry":', '{"entry":').replace(/}$/, ',"kind":"entry"}'),
      op.replace('"type":"agent.operation"', '"type":"key.rotated"'),
      op.replace(/"details":\{[^}]*\},/, '"details":{"contentType":"x","y":"z"},'),
      `${op} `,
      op.replace(/"sig":"/, '"sig": "'),
    ];
    for (const l of declined) {
      expect(l).not.toBe(op);
      expect(parseEntryLineFast(l), l.slice(0, 200)).toBeUndefined();
    }
  });

  it("never disagrees with the general path on 40,000 random mutations", () => {
    const next = rng(42);
    let accepted = 0;
    for (let i = 0; i < 40_000; i++) {
      const base = lines[Math.floor(next() * lines.length)]!;
      let l = base;
      const edits = 1 + Math.floor(next() * 3);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(next() * l.length);
        const ch = next() < 0.5 ? ALPHABET[Math.floor(next() * ALPHABET.length)]! : l[Math.floor(next() * l.length)]!;
        const op = next();
        l =
          op < 0.4
            ? l.slice(0, at) + ch + l.slice(at + 1)
            : op < 0.7
              ? l.slice(0, at) + ch + l.slice(at)
              : l.slice(0, at) + l.slice(at + 1);
      }
      if (agree(l)) accepted++;
    }
    // Many mutations land inside strings and stay acceptable: the comparison above really ran.
    expect(accepted).toBeGreaterThan(1000);
  });
});

describe("entryCanonicalText", () => {
  it("equals the reference canonicalize on entries in any key order, with awkward values", () => {
    const next = rng(7);
    const values: unknown[] = [
      0,
      -0,
      1e21,
      1e-7,
      0.1,
      123456789012345680000,
      "é",
      "😀",
      "\u2028",
      "\u007f",
      'a"b\\c\n',
      null,
      true,
      [],
      {},
      [1, "x", { b: 1, a: 2 }],
      { "10": 1, "9": 2, a: 3 },
      { "": 1, " ": 2 },
    ];
    const keys = ["agent", "issuer", "seq", "v", "details", "zeta", "Zeta", "_x", "10", "2", "é"];
    for (let i = 0; i < 3000; i++) {
      const o: Record<string, unknown> = {};
      const pick = [...keys].sort(() => next() - 0.5).slice(0, 2 + Math.floor(next() * 6));
      const sorted = next() < 0.5 ? [...pick].sort() : pick;
      for (const k of sorted) o[k] = values[Math.floor(next() * values.length)];
      o.hash = "a".repeat(64);
      o.sig = "QUFB";
      const parsed = JSON.parse(JSON.stringify(o)) as Record<string, unknown>; // as an export line gives it
      expect(entryCanonicalText(parsed)).toBe(canonicalize(withoutFields(parsed, "hash", "sig")));
    }
  });
});
