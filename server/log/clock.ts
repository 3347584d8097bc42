/**
 * The server's clock, and the guard that keeps a wrong one out of the chain.
 *
 * `serverClock`: the time every entry, certificate and CRL is stamped with. By default the host's;
 * KAKUNIN_CLOCK_OFFSET_FILE (drills and tests only) names a file holding an offset in ms that is
 * re-read every 100 ms, so a clock jump can be staged in a running server without touching the host.
 *
 * `ClockGuard`: the database's clock is the reference (SQLite: the host's, read by SQLite itself;
 * PostgreSQL: the database server's). It is sampled every second off the hot path; each append
 * compares the server clock with the reference extrapolated on the monotonic clock. Beyond
 * KAKUNIN_MAX_CLOCK_SKEW_MS, appends are frozen with 503 ERR_CLOCK_SKEW (logged once), and resume
 * by themselves when the clocks agree again — a transient jump never reaches an entry, so it can
 * never be carried into later ones by the chain's never-backwards time.
 */
import { readFileSync } from "node:fs";
import { sql, type Kysely } from "kysely";
import { KakuninError } from "../errors.js";

/** Default largest tolerated difference between the server's and the database's clock. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000;
const SAMPLE_EVERY_MS = 1_000;

export class ClockSkewError extends KakuninError {
  constructor(skewMs: number) {
    super(
      503,
      "ERR_CLOCK_SKEW",
      `The server's clock is ${Math.round(skewMs / 1000)} s off the database's clock; appends are frozen until it is corrected`,
      { retryAfter: 5 },
    );
  }
}

/** The host clock, or the host clock plus the offset in `offsetFile` (re-read every 100 ms). */
export function serverClock(offsetFile: string | undefined): { now: () => Date; close(): void } {
  if (!offsetFile) return { now: () => new Date(), close: () => undefined };
  let offset = 0;
  const read = () => {
    try {
      const n = Number(readFileSync(offsetFile, "utf8").trim());
      if (Number.isFinite(n)) offset = n;
    } catch {
      // no file: no offset
    }
  };
  read();
  const t = setInterval(read, 100);
  t.unref();
  return { now: () => new Date(Date.now() + offset), close: () => clearInterval(t) };
}

export class ClockGuard {
  private sample: { db: number; mono: number } | undefined;
  private frozen = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly o: {
      db: Kysely<any>;
      dialect: "sqlite" | "postgres";
      now: () => Date;
      maxSkewMs?: number;
      logger?: { warn(o: object, msg: string): void; error(o: object, msg: string): void };
    },
  ) {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), SAMPLE_EVERY_MS);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    try {
      const q =
        this.o.dialect === "postgres"
          ? sql<{
              t: string;
            }>`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as t`
          : sql<{ t: string }>`select strftime('%Y-%m-%dT%H:%M:%fZ', 'now') as t`;
      const mono = performance.now();
      const row = (await q.execute(this.o.db)).rows[0];
      const db = row ? Date.parse(row.t) : NaN;
      if (Number.isFinite(db)) this.sample = { db, mono: (mono + performance.now()) / 2 };
    } catch {
      // keep the last sample; the database being down fails appends anyway
    }
  }

  /** Server clock minus the database's, ms (0 before the first sample). */
  skew(now = this.o.now()): number {
    const s = this.sample;
    if (!s) return 0;
    return now.getTime() - (s.db + (performance.now() - s.mono));
  }

  /** Throws ClockSkewError while the clocks disagree by more than the tolerance; logs each change. */
  check(now: Date): void {
    const skew = this.skew(now);
    const bad = Math.abs(skew) > (this.o.maxSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS);
    if (bad !== this.frozen) {
      this.frozen = bad;
      if (bad)
        this.o.logger?.error(
          { skewMs: Math.round(skew), serverTime: now.toISOString() },
          "server clock disagrees with the database's clock: appends frozen",
        );
      else
        this.o.logger?.warn(
          { skewMs: Math.round(skew) },
          "server clock agrees with the database's clock again: appends resumed",
        );
    }
    if (bad) throw new ClockSkewError(skew);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
