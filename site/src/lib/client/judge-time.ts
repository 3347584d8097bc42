/**
 * "Judge as at": the portal's injected clock, the counterpart of `kakunin-verify receipt --now`.
 *
 * The user is the relying party, so choosing the time is legitimate (e.g. "as at next week, when the
 * certificate will have expired"); but the time may also come from a link someone sent. So it is
 * never implicit: only an RFC 3339 date-time with an explicit offset is taken (a browser's local
 * time would differ from the CLI's), the result always states the time used, and the page says
 * when the verdict at the chosen time differs from the verdict now (judged-at-view.ts).
 */

/** The URL query parameter that sets the field: `/verify/receipt/?at=2026-12-05T10:00:00Z`. */
export const JUDGE_AT_PARAM = "at";

/** RFC 3339 §5.6 date-time: seconds required, fraction optional, offset Z or ±hh:mm. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * Parses the field: empty → undefined (judge as at now), else the instant, else a message for the
 * field naming what is expected.
 */
export function parseJudgeTime(text: string): { at: Date | undefined } | { error: string } {
  const t = text.trim();
  if (!t) return { at: undefined };
  const m = RFC3339.exec(t);
  const bad = {
    error: `“${t.length > 60 ? `${t.slice(0, 60)}…` : t}” is not an RFC 3339 date and time. Write it with seconds and a time zone, for example 2026-12-05T10:00:00Z (UTC) or 2026-12-05T11:00:00+01:00, or leave the field empty to judge as at now.`,
  };
  if (!m) return bad;
  const [mo, d, hh, mi, ss] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const offH = m[9] === undefined ? 0 : Number(m[9]);
  const offM = m[10] === undefined ? 0 : Number(m[10]);
  // Date.parse would roll 2026-02-30 over into March; the calendar fields must be what was written.
  const y = Number(m[1]);
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || hh > 23 || mi > 59 || ss > 60 || offH > 23 || offM > 59) return bad;
  const at = new Date(t.replace(/^(.{19}(?:\.\d{1,3})?)\d*/, "$1").replace(/[tz]/g, (c) => c.toUpperCase()));
  return Number.isNaN(at.getTime()) ? bad : { at };
}

/** The `?at=` value of a page URL, or undefined when the link sets none. */
export function judgeTimeFromUrl(href: string): string | undefined {
  const v = new URL(href).searchParams.get(JUDGE_AT_PARAM);
  return v === null || v.trim() === "" ? undefined : v;
}
