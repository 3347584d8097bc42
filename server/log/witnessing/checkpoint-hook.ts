/**
 * The checkpoint publisher's witness hook: each new checkpoint goes to the configured witnesses
 * (`cosignCheckpoint`, with the database's `CosignedSizes` and the log's consistency proofs), and the
 * cosignatures are stored into the published note (`addCheckpointSignatures`). Never on the append
 * path: `onCheckpoint` returns at once and rounds run in the background, one at a time per issuer
 * (the newest checkpoint waiting supersedes older ones). A checkpoint that misses its quorum stays
 * published — the checkpoint route flags it (`kakunin-witness-quorum: missing …`) — and is sent again
 * to the witnesses that did not cosign it, with back-off, until the quorum is met or a newer
 * checkpoint replaces it. That retry survives a restart: the newest checkpoint per origin not known to
 * have its quorum is kept in `PendingRetries` (the database's `witness_retries`), and `resume()` sends
 * it again at start-up.
 */
import { quorumSatisfied } from "../../../verifier/src/formats/index.js";
import type { CheckpointHook, SignedCheckpoint } from "../tree/checkpoint-hooks.js";
import { signedCheckpointFromNote } from "../tree/signed-checkpoint.js";
import type { WitnessingConfig } from "./config.js";
import { cosignCheckpoint, type CosignResult } from "./cosign.js";
import { mergeCosignatures } from "./merge.js";
import { noteQuorum } from "./note-quorum.js";
import type { CosignedSizes, PendingRetries, PendingRetry } from "./state.js";

/** What the hook needs of the log (the LogStore has it). */
export interface CosigningLog {
  consistencyProof(issuerId: string, from: number, to: number): Promise<Uint8Array[]>;
  treeCheckpointAt(issuerId: string, size: number): Promise<{ note: string } | undefined>;
  addCheckpointSignatures(issuerId: string, size: number, note: string): Promise<unknown>;
}

interface Log {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

export interface WitnessHookOptions {
  config: Pick<WitnessingConfig, "witnesses" | "quorum" | "timeoutMs">;
  state: CosignedSizes;
  log: CosigningLog;
  /** Where the checkpoint being retried is kept across restarts (absent: retries stop at a restart). */
  retries?: PendingRetries;
  now?: () => Date;
  logger?: Log;
  /** First retry after a round below the quorum, ms (default 1000); doubled each time up to `retryMaxMs` (default 60000). */
  retryFirstMs?: number;
  retryMaxMs?: number;
  /** After each round (tests, metrics). */
  onRound?: (round: WitnessRound) => void;
}

/** One round, as logged. */
export interface WitnessRound {
  issuerId: string;
  size: number;
  /** 1 for the first round of a checkpoint, then 2, 3… for its retries. */
  attempt: number;
  result: CosignResult;
  /** Every witness that has cosigned this checkpoint so far (this round and earlier ones). */
  cosigned: string[];
  quorumMet: boolean;
  /** The cosignatures could not be stored (they will be asked for again). */
  storeError?: string;
}

/** The checkpoint a round works on, with what earlier rounds got for it. */
interface Target {
  cp: SignedCheckpoint;
  cosigned: Set<string>;
  attempt: number;
  /** when its first round started (before a restart too) */
  since: string;
  /** rounds made before this process resumed it (the back-off starts afresh after a restart) */
  resumedFrom: number;
}

interface IssuerQueue {
  pending?: Target;
  running?: Promise<void>;
  retry?: NodeJS.Timeout;
}

export class WitnessCheckpointHook implements CheckpointHook {
  readonly name = "witnesses";
  readonly #o: WitnessHookOptions;
  readonly #queues = new Map<string, IssuerQueue>();
  readonly #closing = new AbortController();

  constructor(o: WitnessHookOptions) {
    this.#o = o;
  }

  get enabled(): boolean {
    return this.#o.config.witnesses.length > 0;
  }

  onCheckpoint(cp: SignedCheckpoint): void {
    if (!this.enabled || this.#closing.signal.aborted) return;
    const q = this.#queue(cp.issuerId);
    if (q.pending && q.pending.cp.size >= cp.size) return;
    // A newer checkpoint covers everything an older one does: its retry is moot.
    if (q.retry) clearTimeout(q.retry);
    q.retry = undefined;
    q.pending = { cp, cosigned: new Set(), attempt: 0, since: this.#now().toISOString(), resumedFrom: 0 };
    this.#pump(cp.issuerId);
  }

  /**
   * Start-up: every checkpoint a previous run left below its quorum (PendingRetries) is sent again to
   * the witnesses its stored note lacks — unless that note meets the quorum by now (another instance
   * finished it) or a newer checkpoint is already queued. Returns how many were resumed.
   */
  async resume(): Promise<number> {
    const { retries, log, config } = this.#o;
    if (!this.enabled || !retries) return 0;
    let resumed = 0;
    for (const p of await retries.list()) {
      if (this.#closing.signal.aborted) break;
      try {
        const q = this.#queue(p.issuerId);
        if ((q.pending && q.pending.cp.size >= p.size) || q.running) continue;
        const stored = await log.treeCheckpointAt(p.issuerId, p.size);
        if (!stored) {
          await retries.clear(p.origin, p.size); // not in this database (a restore): nothing to retry
          continue;
        }
        const quorum = await noteQuorum(stored.note, config.witnesses, config.quorum);
        if (quorum?.met) {
          await retries.clear(p.origin, p.size);
          continue;
        }
        const cp = signedCheckpointFromNote(p.issuerId, stored.note);
        q.pending = {
          cp,
          cosigned: new Set(quorum?.cosigned),
          attempt: p.attempts,
          since: p.since,
          resumedFrom: p.attempts,
        };
        this.#o.logger?.info(
          { issuer: p.issuerId, size: p.size, attempts: p.attempts, since: p.since, missing: quorum?.missing },
          "resuming the witness retry of a checkpoint below its quorum",
        );
        resumed++;
        this.#pump(p.issuerId);
      } catch (e) {
        this.#o.logger?.error(
          { err: (e as Error).message, issuer: p.issuerId, size: p.size },
          "witness retry not resumed",
        );
      }
    }
    return resumed;
  }

  /** Every checkpoint being retried (as last recorded), one per origin. */
  pendingRetries(): Promise<PendingRetry[]> {
    return this.#o.retries?.list() ?? Promise.resolve([]);
  }

  /** Stops retries, cancels witness requests in flight and waits for running rounds. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const q of this.#queues.values()) if (q.retry) clearTimeout(q.retry);
    await Promise.allSettled([...this.#queues.values()].map((q) => q.running));
  }

  #queue(issuerId: string): IssuerQueue {
    let q = this.#queues.get(issuerId);
    if (!q) this.#queues.set(issuerId, (q = {}));
    return q;
  }

  #pump(issuerId: string): void {
    const q = this.#queue(issuerId);
    if (q.running || !q.pending || this.#closing.signal.aborted) return;
    const target = q.pending;
    q.pending = undefined;
    q.running = this.#round(target)
      .catch((e: unknown) => {
        // The log's own reads failed (database): try again later like a missed quorum.
        this.#o.logger?.error({ err: (e as Error).message, issuer: issuerId }, "witness round failed");
        this.#retryLater(target);
      })
      .finally(() => {
        q.running = undefined;
        this.#pump(issuerId);
      });
  }

  async #round(t: Target): Promise<void> {
    const { config, log, state } = this.#o;
    const { issuerId, size } = t.cp;
    t.attempt++;
    // Recorded before the first round: a crash mid-round still leaves it to be resumed.
    if (t.attempt === 1)
      await this.#record(
        t,
        0,
        config.witnesses.map((w) => w.name),
      );
    // The stored note may already carry cosignatures (earlier rounds, another instance).
    const stored = (await log.treeCheckpointAt(issuerId, size))?.note ?? t.cp.note;
    const witnesses = config.witnesses.filter((w) => !t.cosigned.has(w.name));
    const result = await cosignCheckpoint({
      note: stored,
      witnesses,
      state,
      proofs: (from, to) => log.consistencyProof(issuerId, from, to),
      timeoutMs: config.timeoutMs,
      signal: this.#closing.signal,
    });
    let storeError: string | undefined;
    if (result.cosigned.length > 0) {
      try {
        const lines = result.outcomes.flatMap((o) => (o.kind === "cosigned" ? o.lines : []));
        // Re-read: another instance may have stored more lines meanwhile; ours are merged into its note.
        const latest = (await log.treeCheckpointAt(issuerId, size))?.note ?? stored;
        await log.addCheckpointSignatures(issuerId, size, mergeCosignatures(latest, lines).note);
        for (const n of result.cosigned) t.cosigned.add(n);
      } catch (e) {
        storeError = (e as Error).message;
      }
    }
    const cosigned = config.witnesses.filter((w) => t.cosigned.has(w.name)).map((w) => w.name);
    const quorumMet = quorumSatisfied(config.quorum, t.cosigned);
    const round: WitnessRound = {
      issuerId,
      size,
      attempt: t.attempt,
      result,
      cosigned,
      quorumMet,
      ...(storeError ? { storeError } : {}),
    };
    this.#report(round);
    if (quorumMet) await this.#forget(t);
    else
      await this.#record(
        t,
        t.attempt,
        config.witnesses.filter((w) => !t.cosigned.has(w.name)).map((w) => w.name),
      );
    if (!quorumMet && !this.#closing.signal.aborted) this.#retryLater(t);
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }

  /** Persist the retry (the database being down costs only its survival across a restart). */
  async #record(t: Target, attempts: number, missing: string[]): Promise<void> {
    const { retries } = this.#o;
    if (!retries) return;
    try {
      await retries.set({
        origin: t.cp.origin,
        issuerId: t.cp.issuerId,
        size: t.cp.size,
        attempts,
        since: t.since,
        lastAttemptAt: this.#now().toISOString(),
        missing,
      });
    } catch (e) {
      this.#o.logger?.warn({ err: (e as Error).message, issuer: t.cp.issuerId }, "witness retry state not stored");
    }
  }

  async #forget(t: Target): Promise<void> {
    try {
      await this.#o.retries?.clear(t.cp.origin, t.cp.size);
    } catch (e) {
      this.#o.logger?.warn({ err: (e as Error).message, issuer: t.cp.issuerId }, "witness retry state not cleared");
    }
  }

  #report(r: WitnessRound): void {
    const outcomes = r.result.outcomes.map((o) => ({
      witness: o.witness,
      kind: o.kind,
      ms: o.ms,
      ...("detail" in o ? { detail: o.detail } : {}),
      ...("status" in o ? { status: o.status } : {}),
    }));
    const fields = { issuer: r.issuerId, size: r.size, attempt: r.attempt, cosigned: r.cosigned, outcomes };
    if (r.storeError) this.#o.logger?.error({ ...fields, err: r.storeError }, "cosignatures could not be stored");
    if (r.quorumMet) this.#o.logger?.info(fields, "checkpoint witnessed");
    else this.#o.logger?.warn(fields, "checkpoint published without its witness quorum; will retry");
    try {
      this.#o.onRound?.(r);
    } catch {
      // a listener's bug is not the round's
    }
  }

  #retryLater(t: Target): void {
    const q = this.#queue(t.cp.issuerId);
    if (q.pending || q.retry || this.#closing.signal.aborted) return; // a newer checkpoint is waiting: it supersedes this one
    const first = this.#o.retryFirstMs ?? 1000;
    const ms = Math.min(this.#o.retryMaxMs ?? 60_000, first * 2 ** Math.min(t.attempt - 1 - t.resumedFrom, 20));
    q.retry = setTimeout(() => {
      q.retry = undefined;
      if (q.pending) return;
      q.pending = t;
      this.#pump(t.cp.issuerId);
    }, ms);
    q.retry.unref();
  }
}
