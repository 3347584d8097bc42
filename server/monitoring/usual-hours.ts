/**
 * When in the day an agent works, learned online: a 24-bin histogram of its signatures by UTC
 * hour, decayed daily so habits can change. An hour is unusual when it and its two neighbours
 * together hold less than `minShare` of the agent's activity — "far outside its usual hours",
 * not merely at the edge of them (a shifted start, or a daylight-saving hour, is a neighbour).
 */
export interface UsualHoursOptions {
  /** Days of history before judging. */
  warmupDays: number;
  /** Signatures of history before judging. */
  warmupSigns: number;
  /** Share of activity (0..1) under which an hour window is unusual. */
  minShare: number;
  /** Each bin keeps this fraction of its weight per day. */
  dailyDecay: number;
}

export interface HourJudgement {
  unusual: boolean;
  hour: number;
  /** Share of activity in hour−1..hour+1. */
  share: number;
  /** Hours holding at least 5 % of activity: the agent's usual hours, for the evidence (empty unless unusual). */
  usualHours: number[];
}

const DAY_MS = 86_400_000;

export class UsualHours {
  private readonly bins = new Array<number>(24).fill(0);
  private firstMs: number | undefined;
  private decayedDay: number | undefined;
  private signs = 0;
  /** Sum of the bins, kept alongside them. */
  private total = 0;

  constructor(private readonly options: UsualHoursOptions) {}

  /** Judges a signature at `timeMs`, then learns it. */
  observe(timeMs: number): HourJudgement {
    this.decayTo(Math.floor(timeMs / DAY_MS));
    this.firstMs ??= timeMs;
    const hour = Math.floor(timeMs / 3_600_000) % 24; // UTC: epoch ms have no time zone
    const total = this.total;
    const window = this.bins[(hour + 23) % 24]! + this.bins[hour]! + this.bins[(hour + 1) % 24]!;
    const share = total > 0 ? window / total : 1;
    const judging = this.signs >= this.options.warmupSigns && timeMs - this.firstMs >= this.options.warmupDays * DAY_MS;
    const unusual = judging && share < this.options.minShare;
    const judgement: HourJudgement = {
      unusual,
      hour,
      share,
      // Only an alert's evidence needs them: not computed per signature.
      usualHours: unusual ? this.bins.flatMap((v, h) => (v / total >= 0.05 ? [h] : [])) : [],
    };
    this.bins[hour]! += 1;
    this.total += 1;
    this.signs++;
    return judgement;
  }

  private decayTo(day: number): void {
    if (this.decayedDay !== undefined && day > this.decayedDay) {
      const factor = this.options.dailyDecay ** Math.min(day - this.decayedDay, 365);
      for (let h = 0; h < 24; h++) this.bins[h]! *= factor;
      this.total *= factor;
    }
    if (this.decayedDay === undefined || day > this.decayedDay) this.decayedDay = day;
  }
}
