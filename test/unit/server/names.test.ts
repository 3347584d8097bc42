/** The one name rule for issuers and agents (server/http/names.ts). */
import { describe, expect, it } from "vitest";
import { NAME_MAX_CHARS, nameProblem } from "../../../server/http/names.js";

describe("nameProblem", () => {
  it("accepts ordinary names in any script, up to 64 code points", () => {
    for (const n of ["invoice-bot", "Acme Robotics GmbH", "株式会社アクメ", "Ångström AB", "😀".repeat(NAME_MAX_CHARS), "a b"]) expect(nameProblem(n), n).toBeUndefined();
  });

  it("refuses every character of the categories Cc, Cf, Cs, Co, Cn, Zl, Zp", () => {
    const bad = ["\u0000", "\u001b", "\u007f", "\u0085", "\u009b", "\u202e", "\u200d", "\u200b", "\ufeff", "\ud800", "\udc00", "\ue000", "\uffff", "\ufdd0", "\u{10ffff}", "\u2028", "\u2029", "\u0378"];
    for (const ch of bad) expect(nameProblem(`a${ch}b`), `U+${ch.codePointAt(0)!.toString(16)}`).toMatch(/must not contain U\+/);
  });

  it("refuses over-long, empty, space-edged and non-NFC names instead of changing them", () => {
    expect(nameProblem("x".repeat(NAME_MAX_CHARS + 1))).toMatch(/at most 64/);
    expect(nameProblem("")).toMatch(/empty/);
    expect(nameProblem(" bot")).toMatch(/white space/);
    expect(nameProblem("bot\u00a0")).toMatch(/white space/);
    expect(nameProblem("A\u030angstr\u00f6m")).toMatch(/NFC/); // decomposed Å
  });
});
