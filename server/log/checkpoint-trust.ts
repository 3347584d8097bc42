/**
 * Witnesses and TSAs around published checkpoints (issues 16 and 17), from the server's
 * configuration: the publisher's hooks (cosigning, timestamping — both in the background, never on
 * the append path) over the database's stores, and what the read routes serve from them: the
 * witness quorum of a stored note, `checkpoint.tsr`, and the tokens a receipt carries.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { KyselyTimestampStore } from "./storage/timestamp-tokens.js";
import { KyselyCosignedSizes } from "./storage/witness-state.js";
import type { TimestampingConfig } from "./timestamping/config.js";
import { TimestampCheckpointHook } from "./timestamping/checkpoint-hook.js";
import type { CheckpointTimestampStore, StampedCheckpoint } from "./timestamping/store.js";
import { CheckpointTimestamper } from "./timestamping/timestamper.js";
import { checkpointTsr } from "./timestamping/tsr.js";
import type { CheckpointHook } from "./tree/checkpoint-hooks.js";
import { WitnessCheckpointHook, type CosigningLog } from "./witnessing/checkpoint-hook.js";
import type { WitnessingConfig } from "./witnessing/config.js";
import { noteQuorum, quorumHeader, type NoteQuorum } from "./witnessing/note-quorum.js";

interface Log {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

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

  constructor(o: CheckpointTrustOptions) {
    this.#o = o;
    const logger = o.logger;
    this.witnesses = new WitnessCheckpointHook({
      config: o.witnessing ?? { witnesses: [], quorum: { kind: "none" }, timeoutMs: 5000 },
      state: new KyselyCosignedSizes(o.db),
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

  /** Who cosigned a stored note and whether that is the quorum; undefined without witnesses. */
  quorumOf(note: string): Promise<NoteQuorum | undefined> {
    const w = this.#o.witnessing;
    return w ? noteQuorum(note, w.witnesses, w.quorum) : Promise.resolve(undefined);
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
