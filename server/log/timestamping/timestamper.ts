/**
 * Timestamps published checkpoints in the background: `schedule(text)` returns at once, a round
 * asks every TSA (request-timestamps.ts) and stores the tokens it got. Appends never wait for it.
 * While every TSA is down, the newest checkpoint of an origin is asked again every `retryMs` until
 * a token arrives or a newer checkpoint is scheduled (which covers every earlier entry anyway).
 */
import { parseCheckpoint } from "../../../verifier/src/formats/index.js";
import type { TimestampingConfig } from "./config.js";
import { requestCheckpointTimestamps, type TsaOutcome } from "./request-timestamps.js";
import type { CheckpointTimestamp, CheckpointTimestampStore } from "./store.js";

/** What one round did, for logs and metrics (no secrets: tokens are public, URLs carry no credentials). */
export interface TimestampRound {
  origin: string;
  size: number;
  outcomes: TsaOutcome[];
  /** Tokens handed to the store. */
  stored: number;
}

export interface CheckpointTimestamperOptions {
  config: Pick<TimestampingConfig, "urls" | "timeoutMs" | "attempts" | "policy" | "trust">;
  store: CheckpointTimestampStore;
  /** After each round. */
  onRound?: (round: TimestampRound) => void;
  /** A store failure or a text that is not a checkpoint; the round is dropped, nothing is thrown. */
  onError?: (err: unknown) => void;
  /** Re-ask the newest checkpoint of an origin after a round without any token, ms (default 60000; 0 = never). */
  retryMs?: number;
  backoffMs?: number;
  fetch?: typeof fetch;
}

export class CheckpointTimestamper {
  readonly #o: CheckpointTimestamperOptions;
  readonly #inFlight = new Map<string, Promise<TimestampRound | undefined>>();
  readonly #newest = new Map<string, { text: string; size: number }>();
  /** Per origin: the newest checkpoint text whose last round stored no token. */
  readonly #unstamped = new Map<string, string>();
  readonly #retries = new Map<string, NodeJS.Timeout>();
  readonly #closing = new AbortController();

  constructor(o: CheckpointTimestamperOptions) {
    this.#o = o;
  }

  /** False when KAKUNIN_TSA_URLS is empty: schedule/stamp do nothing. */
  get enabled(): boolean {
    return this.#o.config.urls.length > 0 && this.#o.config.trust !== undefined;
  }

  /** Starts a round for `checkpointText` without waiting for it. */
  schedule(checkpointText: string): void {
    void this.stamp(checkpointText);
  }

  /** Runs (or joins) the round for `checkpointText`. Never rejects; undefined when disabled, closed or not a checkpoint. */
  stamp(checkpointText: string): Promise<TimestampRound | undefined> {
    if (!this.enabled || this.#closing.signal.aborted) return Promise.resolve(undefined);
    const running = this.#inFlight.get(checkpointText);
    if (running) return running;
    const round = this.#round(checkpointText).finally(() => this.#inFlight.delete(checkpointText));
    this.#inFlight.set(checkpointText, round);
    return round;
  }

  async #round(text: string): Promise<TimestampRound | undefined> {
    let origin: string, size: number;
    try {
      ({ origin, size } = parseCheckpoint(text));
    } catch (err) {
      this.#o.onError?.(err);
      return undefined;
    }
    const newest = this.#newest.get(origin);
    if (!newest || size >= newest.size) this.#newest.set(origin, { text, size });
    const { config } = this.#o;
    const outcomes = await requestCheckpointTimestamps(text, {
      urls: config.urls,
      trusted: config.trust!.trusted,
      timeoutMs: config.timeoutMs,
      attempts: config.attempts,
      signal: this.#closing.signal,
      ...(config.policy ? { policy: config.policy } : {}),
      ...(this.#o.backoffMs !== undefined ? { backoffMs: this.#o.backoffMs } : {}),
      ...(this.#o.fetch ? { fetch: this.#o.fetch } : {}),
    });
    const tokens: CheckpointTimestamp[] = [];
    for (const o of outcomes) {
      if (o.kind === "token")
        tokens.push({
          tsaUrl: o.url,
          token: o.token,
          genTime: o.genTime,
          serialNumber: o.serialNumber,
          policy: o.policy,
          tsaName: o.tsaName,
        });
    }
    let stored = 0;
    try {
      await this.#o.store.add(text, tokens);
      stored = tokens.length;
    } catch (err) {
      this.#o.onError?.(err);
    }
    const round: TimestampRound = { origin, size, outcomes, stored };
    try {
      this.#o.onRound?.(round);
    } catch (err) {
      this.#o.onError?.(err);
    }
    // Only the newest checkpoint matters: it covers every entry the older ones do.
    if (this.#newest.get(origin)?.text === text) {
      if (stored === 0) {
        this.#unstamped.set(origin, text);
        this.#retryLater(origin);
      } else {
        this.#unstamped.delete(origin);
      }
    }
    return round;
  }

  #retryLater(origin: string): void {
    const ms = this.#o.retryMs ?? 60_000;
    if (ms <= 0 || this.#closing.signal.aborted || this.#retries.has(origin)) return;
    const t = setTimeout(() => {
      this.#retries.delete(origin);
      const text = this.#unstamped.get(origin);
      if (text) this.schedule(text);
    }, ms);
    t.unref();
    this.#retries.set(origin, t);
  }

  /** Cancels pending requests and retries, and waits for running rounds to end. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const t of this.#retries.values()) clearTimeout(t);
    this.#retries.clear();
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}
