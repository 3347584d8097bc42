/**
 * RFC 3339 §5.6 date-times as verifiers take them from people (`kakunin-verify receipt --now`, the
 * portal's "judge as at"): seconds required, fraction optional, offset `Z` or `±hh:mm` required.
 * One parser for both, so the CLI and the portal read the same text as the same instant — a time
 * without an offset would be the machine's local time, which differs between them.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** The instant `text` names, or undefined when it is not an RFC 3339 date-time with an offset (or names no real date, such as 02-30). */
export function parseRfc3339DateTime(text: string): Date | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [mo, d, hh, mi, ss] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const offH = m[9] === undefined ? 0 : Number(m[9]);
  const offM = m[10] === undefined ? 0 : Number(m[10]);
  // Date.parse would roll 2026-02-30 over into March; the calendar fields must be what was written.
  const days = new Date(Date.UTC(Number(m[1]), mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > days || hh > 23 || mi > 59 || ss > 60 || offH > 23 || offM > 59)
    return undefined;
  // JavaScript dates hold milliseconds: a longer fraction is cut, and t/z are read as T/Z.
  const at = new Date(text.replace(/^(.{19}(?:\.\d{1,3})?)\d*/, "$1").replace(/[tz]/g, (c) => c.toUpperCase()));
  return Number.isNaN(at.getTime()) ? undefined : at;
}
