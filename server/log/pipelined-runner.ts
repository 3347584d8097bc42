/**
 * SQLite (one writer): up to `maxInFlight` batches of an issuer signing at once, committed in chain
 * order. Each batch is sequenced on the previous in-flight batch's last hash (the speculative tail);
 * a batch is committed only once every batch before it committed in full, so no entry is ever
 * committed with a stale prevHash. When a batch does not commit in full (a signature failed, a head
 * conflict, a database error), the later in-flight batches are discarded once their signatures are
 * back and their requests re-queued, in order, behind the failed batch's retries.
 */
import type { BatchSteps, Ready, Signed } from "./batch-steps.js";
import type { IssuerQueue } from "./sequencer.js";
import type { ChainHead, LogStore } from "./storage/log-store.js";

export interface PipelineLimits {
  maxBatch: number;
  maxInFlight: number;
  launchIntervalMs: number;
}

/** An issuer's pipeline: the batches signing, oldest first. */
interface Pipeline {
  inFlight: Flight[];
  /** head after the last in-flight batch (what the next batch is sequenced on) */
  tail: ChainHead | undefined;
  lastLaunch: number;
}

/** A batch being signed: sequenced on `base`, the head it must commit onto. */
interface Flight {
  ready: Ready[];
  base: ChainHead;
  signed: Promise<Signed>;
  /** `signed` has settled */
  done: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * May another batch be launched now? The first at once; more (while one is signing) at most every
 * `launchIntervalMs`, or as soon as a full batch is queued, up to `maxInFlight`.
 */
export function mayLaunch(queued: number, inFlight: number, msSinceLastLaunch: number, l: PipelineLimits): boolean {
  return (
    queued > 0 &&
    inFlight < l.maxInFlight &&
    (inFlight === 0 || queued >= l.maxBatch || msSinceLastLaunch >= l.launchIntervalMs)
  );
}

export class PipelinedRunner {
  constructor(
    private readonly steps: BatchSteps,
    private readonly store: LogStore,
    private readonly l: PipelineLimits,
  ) {}

  /** Drive `q` until it is empty and nothing is in flight. */
  async run(q: IssuerQueue): Promise<void> {
    const p: Pipeline = { inFlight: [], tail: undefined, lastLaunch: -Infinity };
    while (q.length > 0 || p.inFlight.length > 0) {
      await this.launchBatches(q, p);
      const oldest = p.inFlight[0];
      if (!oldest || !(await this.oldestSigned(q, p, oldest))) continue;
      p.inFlight.shift();
      const { complete, front, backoffMs } = await this.commitSigned(q, oldest);
      if (!complete) await this.discardLater(q, p, front);
      if (backoffMs > 0) await sleep(backoffMs);
    }
  }

  /** Launch batches while {@link mayLaunch}; each is sequenced on the tail. */
  private async launchBatches(q: IssuerQueue, p: Pipeline): Promise<void> {
    const { steps } = this;
    while (mayLaunch(q.length, p.inFlight.length, performance.now() - p.lastLaunch, this.l)) {
      const ready = await steps.resolveSigners(q, steps.live(q.take(this.l.maxBatch)));
      if (ready.length === 0) continue;
      let base = p.tail ?? q.head;
      if (!base) {
        try {
          base = await this.store.head(q.issuerId);
        } catch (e) {
          for (const r of ready) r.pending.reject(e);
          continue;
        }
        q.head = base;
      }
      const { entries, head } = steps.sequence(base, ready);
      const flight: Flight = { ready, base, signed: steps.sign(entries), done: false };
      void flight.signed.finally(() => (flight.done = true));
      if (p.inFlight.length > 0) steps.stats.overlapped++;
      p.inFlight.push(flight);
      p.tail = head;
      p.lastLaunch = performance.now();
    }
  }

  /** Wait for the oldest batch's signatures — or for the moment another batch may be launched. True once they are back. */
  private async oldestSigned(q: IssuerQueue, p: Pipeline, oldest: Flight): Promise<boolean> {
    if (oldest.done) return true;
    let timer: NodeJS.Timeout | undefined;
    const waits: Promise<unknown>[] = [oldest.signed];
    if (p.inFlight.length < this.l.maxInFlight) {
      if (q.length > 0)
        waits.push(
          new Promise(
            (r) => (timer = setTimeout(r, Math.max(0, p.lastLaunch + this.l.launchIntervalMs - performance.now()))),
          ),
        );
      else waits.push(q.nextPush());
    }
    await Promise.race(waits);
    if (timer) clearTimeout(timer);
    return oldest.done;
  }

  /**
   * Commit a signed batch on the head it was sequenced on and settle its requests. `complete`:
   * every entry committed; `front`: how many requests settle()/commitFailed() put back at the front
   * of the queue (retries, ahead of anything discarded later).
   */
  private async commitSigned(
    q: IssuerQueue,
    f: Flight,
  ): Promise<{ complete: boolean; front: number; backoffMs: number }> {
    const { steps } = this;
    // settle() and commitFailed() are synchronous, so q.length around them counts what they put
    // back (new requests keep arriving at the back while this awaits).
    try {
      const signed = await f.signed;
      let durable: Promise<void> | undefined;
      if (signed.items.length > 0) {
        try {
          // The loop goes on to the next batch while this one's commit is being synced to disk;
          // its requests are acknowledged once `durable` resolves (settle).
          const c = await this.store.commitBatch(q.issuerId, f.base, signed.items);
          q.head = c.head;
          durable = c.durable;
        } catch (e) {
          const before = q.length;
          const backoffMs = steps.commitFailed(q, f.ready, e);
          return { complete: false, front: q.length - before, backoffMs };
        }
      }
      const before = q.length;
      const backoffMs = steps.settle(q, signed, durable);
      return { complete: signed.items.length === signed.entries.length, front: q.length - before, backoffMs };
    } catch (e) {
      // Should not happen (sign() settles into results); never leave a request hanging.
      q.head = undefined;
      steps.logError(e, q.issuerId);
      for (const r of f.ready) r.pending.reject(e);
      return { complete: false, front: 0, backoffMs: 0 };
    }
  }

  /**
   * The oldest batch did not commit in full: the later in-flight batches were sequenced on entries
   * that are not in the chain. Wait for their signatures (so nothing is still signing for a request
   * that has moved on), then re-queue their requests behind the `front` retries.
   */
  private async discardLater(q: IssuerQueue, p: Pipeline, front: number): Promise<void> {
    const later = p.inFlight.splice(0);
    this.steps.stats.discarded += later.length;
    await Promise.allSettled(later.map((l) => l.signed));
    q.requeueAt(
      front,
      later.flatMap((l) => l.ready.map((r) => r.pending)),
    );
    p.tail = undefined;
  }
}
