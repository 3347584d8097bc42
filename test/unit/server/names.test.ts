/** The one name rule for issuers and agents (server/http/names.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NAME_MAX_CHARS, NameSchema, nameProblem } from "../../../server/http/names.js";

describe("nameProblem", () => {
  it("accepts ordinary names in any script, up to 64 code points", () => {
    for (const n of [
      "invoice-bot",
      "Acme Robotics GmbH",
      "株式会社アクメ",
      "Ångström AB",
      "😀".repeat(NAME_MAX_CHARS),
      "a b",
    ])
      expect(nameProblem(n), n).toBeUndefined();
  });

  it("refuses every character of the categories Cc, Cf, Cs, Co, Cn, Zl, Zp", () => {
    const bad = [
      "\u0000",
      "\u001b",
      "\u007f",
      "\u0085",
      "\u009b",
      "\u202e",
      "\u200d",
      "\u200b",
      "\ufeff",
      "\ud800",
      "\udc00",
      "\ue000",
      "\uffff",
      "\ufdd0",
      "\u{10ffff}",
      "\u2028",
      "\u2029",
      "\u0378",
    ];
    for (const ch of bad)
      expect(nameProblem(`a${ch}b`), `U+${ch.codePointAt(0)!.toString(16)}`).toMatch(/must not contain U\+/);
  });

  it("refuses over-long, empty, space-edged and non-NFC names instead of changing them", () => {
    expect(nameProblem("x".repeat(NAME_MAX_CHARS + 1))).toMatch(/at most 64/);
    expect(nameProblem("")).toMatch(/empty/);
    expect(nameProblem(" bot")).toMatch(/white space/);
    expect(nameProblem("bot\u00a0")).toMatch(/white space/);
    expect(nameProblem("A\u030angstr\u00f6m")).toMatch(/NFC/); // decomposed Å
  });
});

describe("nameProblem, by property", () => {
  const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/u;

  it("accepts a string exactly when it is 1–64 code points, NFC, without forbidden characters or edge spaces", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom("a", " ", "\u00a0", "\u0301", "\u00e9", "\u200b", "\u0000", "😀", "\ud800", "\u2028"),
          maxLength: 70,
        }),
        (s) => {
          const ok =
            [...s].length >= 1 &&
            [...s].length <= NAME_MAX_CHARS &&
            s.normalize("NFC") === s &&
            !FORBIDDEN.test(s) &&
            !/^\s|\s$/u.test(s);
          expect(nameProblem(s) === undefined, JSON.stringify(s)).toBe(ok);
          // The zod schema the routes use says the same, and refuses as 422 ERR_INVALID_NAME.
          const parsed = NameSchema().safeParse(s);
          expect(parsed.success).toBe(ok);
          if (!parsed.success)
            expect((parsed.error.issues[0] as { params?: unknown }).params).toEqual({
              status: 422,
              code: "ERR_INVALID_NAME",
            });
        },
      ),
      { numRuns: 500 },
    );
  });
});
