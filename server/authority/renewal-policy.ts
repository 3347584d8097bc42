/**
 * When certificates are renewed and CRLs refreshed. Pure date arithmetic; the maintenance job
 * (server/jobs/certificate-maintenance.ts) and CRL publication apply it.
 */

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/** `t` plus `days` days. */
export function daysAfter(t: Date, days: number): Date {
  return new Date(t.getTime() + days * DAY_MS);
}

/** Active certificates whose notAfter is at or before this instant are renewed (KAKUNIN_RENEW_BEFORE_DAYS). */
export function renewalCutoff(now: Date, renewBeforeDays: number): Date {
  return daysAfter(now, renewBeforeDays);
}

/** The nextUpdate of a CRL signed at `thisUpdate` (KAKUNIN_CRL_VALIDITY_DAYS). */
export function crlNextUpdate(thisUpdate: Date, crlValidityDays: number): Date {
  return daysAfter(thisUpdate, crlValidityDays);
}

/**
 * Is a new CRL due? Yes when none was published, or when less than a third of a CRL's validity is
 * left before the latest one's nextUpdate (so relying parties never hold a stale one).
 */
export function crlRefreshDue(latestNextUpdate: string | undefined, now: Date, crlValidityDays: number): boolean {
  if (latestNextUpdate === undefined) return true;
  const margin = (crlValidityDays * DAY_MS) / 3;
  return new Date(latestNextUpdate).getTime() - now.getTime() < margin;
}
