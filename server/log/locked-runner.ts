/**
 * PostgreSQL (several instances may append to one chain): one batch of an issuer at a time, the
 * whole batch — head read, sequencing, signing, commit — in one transaction holding the issuer's
 * chain lock (LogStore.withChainLock), so another instance's batch waits rather than losing the
 * head CAS and being re-signed. The CAS in the commit stays as the safety net.
 */
import type { BatchSteps, Signed } from "./batch-steps.js";
import type { IssuerQueue, Pending } from "./sequencer.js";
import type { ChainHead, LogStore } from "./storage/log-store.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LockedRunner {
  constructor(
    private readonly steps: BatchSteps,
    private readonly store: LogStore,
    private readonly maxBatch: number,
  ) {}

  /** Drive `q` until it is empty. */
  async run(q: IssuerQueue): Promise<void> {
    while (q.length > 0) {
      const batch = this.steps.live(q.take(this.maxBatch));
      let backoffMs = 0;
      try {
        backoffMs = await this.processBatch(q, batch);
      } catch (e) {
        // Should not happen (processBatch settles every request); never leave a request hanging.
        q.head = undefined;
        this.steps.logError(e, q.issuerId);
        for (const p of batch) p.reject(e);
      }
      if (backoffMs > 0) await sleep(backoffMs);
    }
  }

  /** One batch under the chain lock. Returns a back-off delay (ms) before the next batch; settles or re-queues every request. */
  private async processBatch(q: IssuerQueue, batch: Pending[]): Promise<number> {
    const { steps } = this;
    // Who signs each entry: the agent's ACTIVE certificate now, or the log signer.
    const ready = await steps.resolveSigners(q, batch);
    if (ready.length === 0) return 0;
    let signed: Signed;
    let next: ChainHead | undefined;
    try {
      signed = await this.store.withChainLock(q.issuerId, async (chain) => {
        if (chain.waited) steps.stats.chainLockWaits++;
        const s = await steps.sequenceAndSign(chain.head, ready);
        if (s.items.length > 0) next = await chain.write(s.items);
        return s;
      });
    } catch (e) {
      return steps.commitFailed(q, ready, e);
    }
    q.head = next ?? q.head;
    return steps.settle(q, signed);
  }
}
