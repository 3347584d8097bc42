/** When certificates are renewed and CRLs refreshed (server/authority/renewal-policy.ts). */
import { describe, expect, it } from "vitest";
import {
  crlNextUpdate,
  crlRefreshDue,
  DAY_MS,
  daysAfter,
  renewalCutoff,
} from "../../../server/authority/renewal-policy.js";

const now = new Date("2026-03-01T12:00:00.000Z");

describe("renewal and CRL dates", () => {
  it("adds whole days in UTC milliseconds, whatever the calendar does", () => {
    expect(daysAfter(now, 0).toISOString()).toBe("2026-03-01T12:00:00.000Z");
    expect(daysAfter(now, 30).toISOString()).toBe("2026-03-31T12:00:00.000Z");
    // Across the end of February and a leap day.
    expect(daysAfter(new Date("2028-02-28T00:00:00.000Z"), 2).toISOString()).toBe("2028-03-01T00:00:00.000Z");
    expect(daysAfter(now, 1).getTime() - now.getTime()).toBe(DAY_MS);
  });

  it("renews what expires within renewBeforeDays of now", () => {
    expect(renewalCutoff(now, 30).toISOString()).toBe("2026-03-31T12:00:00.000Z");
    expect(renewalCutoff(now, 0).getTime()).toBe(now.getTime());
  });

  it("gives a CRL signed now a nextUpdate crlValidityDays later", () => {
    expect(crlNextUpdate(now, 7).toISOString()).toBe("2026-03-08T12:00:00.000Z");
  });
});

describe("crlRefreshDue", () => {
  const validityDays = 7;
  const third = (validityDays * DAY_MS) / 3;
  const at = (ms: number) => new Date(now.getTime() + ms).toISOString();

  it("is due when no CRL was ever published", () => {
    expect(crlRefreshDue(undefined, now, validityDays)).toBe(true);
  });

  it("is not due while more than a third of the validity is left, nor at exactly a third", () => {
    expect(crlRefreshDue(at(validityDays * DAY_MS), now, validityDays)).toBe(false);
    expect(crlRefreshDue(at(third + 1), now, validityDays)).toBe(false);
    expect(crlRefreshDue(at(third), now, validityDays)).toBe(false);
  });

  it("is due once less than a third is left, and after nextUpdate has passed", () => {
    expect(crlRefreshDue(at(third - 1), now, validityDays)).toBe(true);
    expect(crlRefreshDue(at(0), now, validityDays)).toBe(true);
    expect(crlRefreshDue(at(-DAY_MS), now, validityDays)).toBe(true);
  });

  it("scales the margin with the configured validity", () => {
    const twoDays = at(2 * DAY_MS);
    expect(crlRefreshDue(twoDays, now, 7)).toBe(true); // 2 d < 7/3 d
    expect(crlRefreshDue(twoDays, now, 3)).toBe(false); // 2 d > 1 d
  });
});
