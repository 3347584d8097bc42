/**
 * An agent's own signing rate, learned online: events are counted in fixed time buckets, and each
 * closed *active* bucket (one with at least one event) updates an exponentially weighted mean and
 * variance of the count. Idle buckets are skipped on purpose: an agent that works 9 to 5 must not
 * look like a burst every morning because its nights decayed the mean to zero — what is learned is
 * "how fast this agent signs when it signs".
 *
 * A bucket is a burst when its count exceeds
 *   max(minCount, ratio × mean, mean + z × √max(variance, mean))
 * (√mean: counts of independent events vary at least like a Poisson count). The count is judged
 * while the bucket fills, so a burst is flagged within one bucket of its start.
 */
export interface RateBaselineOptions {
  /** Bucket width, ms. */
  bucketMs: number;
  /** EWMA weight of each new active bucket (0..1); 0.05 ≈ a memory of the last 20 active buckets. */
  alpha: number;
  /** Active buckets to learn from before judging. */
  warmupBuckets: number;
  /** Never a burst at or below this many events in a bucket. */
  minCount: number;
  /** A burst is at least this many times the mean. */
  ratio: number;
  /** … and this many standard deviations above it. */
  z: number;
}

export interface BaselineSnapshot {
  mean: number;
  stdDev: number;
  activeBuckets: number;
  threshold: number;
}

export class RateBaseline {
  private mean = 0;
  private variance = 0;
  private activeBuckets = 0;
  private bucketStart = Number.NEGATIVE_INFINITY;
  private count = 0;

  constructor(private readonly options: RateBaselineOptions) {}

  /** Counts one event at `timeMs` (events arrive in time order; an older one counts in the current bucket). Returns the current bucket's count. */
  add(timeMs: number, n = 1): number {
    this.advance(timeMs);
    this.count += n;
    return this.count;
  }

  /** Closes the buckets that ended before `timeMs`. */
  advance(timeMs: number): void {
    const start = Math.floor(timeMs / this.options.bucketMs) * this.options.bucketMs;
    if (start <= this.bucketStart) return;
    if (this.count > 0) this.learn(this.count);
    this.bucketStart = start;
    this.count = 0;
  }

  get warmedUp(): boolean {
    return this.activeBuckets >= this.options.warmupBuckets;
  }

  /** Count of the bucket now filling. */
  get current(): number {
    return this.count;
  }

  /** Start of the bucket now filling, epoch ms. */
  get currentBucketStart(): number {
    return this.bucketStart;
  }

  /** Counts above this are a burst (Infinity before warm-up). */
  threshold(): number {
    if (!this.warmedUp) return Number.POSITIVE_INFINITY;
    return this.limit();
  }

  /** True when the bucket now filling is a burst. */
  get bursting(): boolean {
    return this.count > this.threshold();
  }

  snapshot(): BaselineSnapshot {
    return {
      mean: this.mean,
      stdDev: Math.sqrt(this.variance),
      activeBuckets: this.activeBuckets,
      threshold: this.threshold(),
    };
  }

  private limit(): number {
    const { minCount, ratio, z } = this.options;
    return Math.max(minCount, ratio * this.mean, this.mean + z * Math.sqrt(Math.max(this.variance, this.mean)));
  }

  private learn(count: number): void {
    if (this.activeBuckets === 0) {
      this.mean = count;
      this.variance = 0;
    } else {
      // A burst bucket is learned only up to the limit: a sustained attack must not teach the
      // baseline that it is normal within a few buckets.
      const x = this.warmedUp ? Math.min(count, this.limit()) : count;
      const diff = x - this.mean;
      const increment = this.options.alpha * diff;
      this.mean += increment;
      this.variance = (1 - this.options.alpha) * (this.variance + diff * increment);
    }
    this.activeBuckets++;
  }
}
