/**
 * Witnesses and TSAs around published checkpoints (issues 16 and 17), from the server's
 * configuration: the publisher's hooks (cosigning, timestamping — both in the background, never on
 * the append path) over the database's stores, and what the read routes serve from them: the
 * witness quorum of a stored note, `checkpoint.tsr`, and the tokens a receipt carries.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { KyselyTimestampStore } from "./storage/timestamp-tokens.js";
import { KyselyCosignedSizes, KyselyPendingRetries } from "./storage/witness-state.js";
import type { TimestampingConfig } from "./timestamping/config.js";
import { TimestampCheckpointHook } from "./timestamping/checkpoint-hook.js";
import type { CheckpointTimestampStore, StampedCheckpoint } from "./timestamping/store.js";
import { CheckpointTimestamper } from "./timestamping/timestamper.js";
import { checkpointTsr } from "./timestamping/tsr.js";
import type { CheckpointHook } from "./tree/checkpoint-hooks.js";
import { WitnessCheckpointHook, type CosigningLog } from "./witnessing/checkpoint-hook.js";
import type { WitnessingConfig } from "./witnessing/config.js";
import { noteQuorum, quorumHeader, type NoteQuorum } from "./witnessing/note-quorum.js";
import type { PendingRetry } from "./witnessing/state.js";

interface Log {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

/** Notes whose quorum is remembered (about one per issuer log is read at a time). */
const QUORUM_CACHE = 4096;

export interface CheckpointTrustOptions {
  db: Kysely<Database>;
  log: CosigningLog;
  witnessing?: WitnessingConfig;
  timestamping?: TimestampingConfig;
  logger?: Log;
  /** Tests: faster retries. */
  witnessRetryFirstMs?: number;
  tsaRetryMs?: number;
}

/** A log's witnessing as `GET /v1/logs` shows it: the latest checkpoint's quorum, and the retry under way. */
export interface LogWitnessing {
  /** the latest checkpoint's note carries the quorum of verified cosignatures */
  quorumMet: boolean;
  cosigned: string[];
  /** configured witnesses without a verified cosignature on the latest checkpoint */
  pendingWitnesses: string[];
  /** the checkpoint being re-sent to its missing witnesses (kept across restarts), or null */
  retry: Omit<PendingRetry, "origin" | "issuerId"> | null;
}

/** The latest stamped checkpoint's `checkpoint.tsr`, and which checkpoint it is over. */
export interface CheckpointTsr {
  size: number;
  /** The timestamped checkpoint text (`openssl ts -verify -data` it). */
  text: string;
  tsr: Uint8Array;
}

export class CheckpointTrust {
  readonly hooks: CheckpointHook[] = [];
  readonly witnesses: WitnessCheckpointHook;
  readonly timestamper: CheckpointTimestamper;
  readonly tokens: CheckpointTimestampStore;
  readonly #o: CheckpointTrustOptions;
  readonly #quorums = new Map<string, NoteQuorum>();

  constructor(o: CheckpointTrustOptions) {
    this.#o = o;
    const logger = o.logger;
    this.witnesses = new WitnessCheckpointHook({
      config: o.witnessing ?? { witnesses: [], quorum: { kind: "none" }, timeoutMs: 5000 },
      state: new KyselyCosignedSizes(o.db),
      retries: new KyselyPendingRetries(o.db),
      log: o.log,
      ...(logger ? { logger } : {}),
      ...(o.witnessRetryFirstMs !== undefined ? { retryFirstMs: o.witnessRetryFirstMs } : {}),
    });
    this.tokens = new KyselyTimestampStore(o.db);
    this.timestamper = new CheckpointTimestamper({
      config: o.timestamping ?? { urls: [], timeoutMs: 5000, attempts: 1 },
      store: this.tokens,
      ...(o.tsaRetryMs !== undefined ? { retryMs: o.tsaRetryMs } : {}),
      onRound: (r) => {
        const outcomes = r.outcomes.map((x) => ({ tsa: x.url, kind: x.kind }));
        if (r.stored > 0)
          logger?.info({ origin: r.origin, size: r.size, stored: r.stored, outcomes }, "checkpoint timestamped");
        else
          logger?.warn({ origin: r.origin, size: r.size, outcomes }, "no TSA timestamped the checkpoint; will retry");
      },
      onError: (err) => logger?.error({ err: (err as Error).message }, "checkpoint timestamping failed"),
    });
    if (this.witnesses.enabled) this.hooks.push(this.witnesses);
    if (this.timestamper.enabled) this.hooks.push(new TimestampCheckpointHook(this.timestamper));
  }

  /** Start-up, after the log: resume the witness retries a previous run left (in the background). */
  start(): void {
    const resumed = this.witnesses.resume();
    resumed.catch((e: unknown) =>
      this.#o.logger?.error({ err: (e as Error).message }, "witness retries could not be resumed"),
    );
  }

  /**
   * Each log's witnessing for `GET /v1/logs` (keyed by issuer): the quorum of its latest note and the
   * recorded retry (one query for all of them); undefined without witnesses.
   */
  async witnessingOf(
    logs: readonly { issuer: string; origin: string }[],
    latestNote: (issuerId: string) => Promise<string | undefined>,
  ): Promise<Map<string, LogWitnessing> | undefined> {
    const w = this.#o.witnessing;
    if (!w || w.witnesses.length === 0) return undefined;
    const retries = new Map((await this.witnesses.pendingRetries()).map((p) => [p.origin, p]));
    const out = new Map<string, LogWitnessing>();
    for (const l of logs) {
      const note = await latestNote(l.issuer);
      const q = note ? await this.quorumOf(note) : undefined;
      const p = retries.get(l.origin);
      out.set(l.issuer, {
        quorumMet: q?.met ?? false,
        cosigned: q?.cosigned ?? [],
        pendingWitnesses: q?.missing ?? w.witnesses.map((x) => x.name),
        retry: p
          ? { size: p.size, attempts: p.attempts, since: p.since, lastAttemptAt: p.lastAttemptAt, missing: p.missing }
          : null,
      });
    }
    return out;
  }

  /**
   * Who cosigned a stored note and whether that is the quorum; undefined without witnesses. Memoised
   * by note text (a note changes only when a line is added): the public read routes verify nothing twice.
   */
  async quorumOf(note: string): Promise<NoteQuorum | undefined> {
    const w = this.#o.witnessing;
    if (!w) return undefined;
    const known = this.#quorums.get(note);
    if (known) return known;
    const q = await noteQuorum(note, w.witnesses, w.quorum);
    if (!q) return undefined;
    if (this.#quorums.size >= QUORUM_CACHE) this.#quorums.delete(this.#quorums.keys().next().value!);
    this.#quorums.set(note, q);
    return q;
  }

  /** The `kakunin-witness-quorum` header value for a stored note; undefined without witnesses. */
  async quorumHeader(note: string): Promise<string | undefined> {
    const q = await this.quorumOf(note);
    return q && quorumHeader(q);
  }

  /** The TimeStampResp of the latest stamped checkpoint of `origin` (the first TSA of KAKUNIN_TSA_URLS that stamped it). */
  async latestTsr(origin: string): Promise<CheckpointTsr | undefined> {
    const s = await this.tokens.latestStamped(origin);
    const tsr = s && checkpointTsr(s.tokens, this.#o.timestamping?.urls ?? []);
    return s && tsr ? { size: s.size, text: s.text, tsr } : undefined;
  }

  /** The smallest stamped checkpoint of `origin` that contains leaf `seq` (a receipt's proof of existence). */
  firstCovering(origin: string, seq: number): Promise<StampedCheckpoint | undefined> {
    return this.tokens.firstCovering(origin, seq);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.witnesses.close(), this.timestamper.close()]);
  }
}
