/** The portal's "judge as at" field: exactly the RFC 3339 instants `kakunin-verify --now` would read, nothing looser. */
import { describe, expect, it } from "vitest";
import { judgeTimeFromUrl, parseJudgeTime } from "../../../site/src/lib/client/judge-time.js";

const at = (t: string) => {
  const r = parseJudgeTime(t);
  if ("error" in r) throw new Error(r.error);
  return r.at?.toISOString();
};

describe("parseJudgeTime", () => {
  it("empty means now", () => {
    expect(parseJudgeTime("  ")).toEqual({ at: undefined });
  });

  it("takes RFC 3339 date-times with Z or an offset, as the CLI's Date would", () => {
    for (const t of [
      "2026-12-05T10:00:00Z",
      "2026-12-05T11:00:00+01:00",
      "2026-12-05t10:00:00z",
      "2026-12-05T10:00:00.000Z",
    ])
      expect([t, at(t)]).toEqual([t, new Date("2026-12-05T10:00:00Z").toISOString()]);
    expect(at(" 2026-12-05T10:00:00.123456789-02:30 ")).toBe("2026-12-05T12:30:00.123Z");
  });

  it("refuses what would depend on the browser or roll over: no zone, no seconds, a space, impossible dates", () => {
    for (const t of [
      "2026-12-05T10:00:00",
      "2026-12-05T10:00Z",
      "2026-12-05 10:00:00Z",
      "2026-12-05",
      "tomorrow",
      "2026-02-30T10:00:00Z",
      "2026-13-01T10:00:00Z",
      "2026-12-05T24:00:00Z",
      "2026-12-05T10:00:00+25:00",
    ]) {
      const r = parseJudgeTime(t);
      expect([t, "error" in r]).toEqual([t, true]);
    }
    expect(parseJudgeTime("2026-12-05 10:00")).toMatchObject({ error: expect.stringContaining("time zone") });
  });
});

describe("judgeTimeFromUrl", () => {
  it("reads ?at=, and nothing from a link without it", () => {
    expect(judgeTimeFromUrl("https://p.example/verify/receipt/?at=2026-12-05T10%3A00%3A00Z")).toBe(
      "2026-12-05T10:00:00Z",
    );
    expect(judgeTimeFromUrl("https://p.example/verify/receipt/?at=")).toBeUndefined();
    expect(judgeTimeFromUrl("https://p.example/verify/receipt/#at=2026-12-05T10:00:00Z")).toBeUndefined();
  });
});
