/**
 * "Judge as at": the portal's injected clock, the counterpart of `kakunin-verify receipt --now`.
 *
 * The user is the relying party, so choosing the time is legitimate (e.g. "as at next week, when the
 * certificate will have expired"); but the time may also come from a link someone sent. So it is
 * never implicit: only an RFC 3339 date-time with an explicit offset is taken (a browser's local
 * time would differ from the CLI's), the result always states the time used, and the page says
 * when the verdict at the chosen time differs from the verdict now (judged-at-view.ts).
 */
import { parseRfc3339DateTime } from "@kakunin/verifier/formats";

/** The URL query parameter that sets the field: `/verify/receipt/?at=2026-12-05T10:00:00Z`. */
export const JUDGE_AT_PARAM = "at";

/**
 * Parses the field: empty → undefined (judge as at now), else the instant, else a message for the
 * field naming what is expected.
 */
export function parseJudgeTime(text: string): { at: Date | undefined } | { error: string } {
  const t = text.trim();
  if (!t) return { at: undefined };
  const at = parseRfc3339DateTime(t);
  if (at) return { at };
  return {
    error: `“${t.length > 60 ? `${t.slice(0, 60)}…` : t}” is not an RFC 3339 date and time. Write it with seconds and a time zone, for example 2026-12-05T10:00:00Z (UTC) or 2026-12-05T11:00:00+01:00, or leave the field empty to judge as at now.`,
  };
}

/** The `?at=` value of a page URL, or undefined when the link sets none. */
export function judgeTimeFromUrl(href: string): string | undefined {
  const v = new URL(href).searchParams.get(JUDGE_AT_PARAM);
  return v === null || v.trim() === "" ? undefined : v;
}
