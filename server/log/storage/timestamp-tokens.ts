/**
 * RFC 3161 tokens over checkpoints, in the database (migration 005: `timestamped_checkpoints` and
 * `tree_checkpoint_timestamps`): the `CheckpointTimestampStore` of server/log/timestamping/store.ts,
 * satisfied structurally (storage does not import the rooms above it). Tokens are only ever added.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";
import { parseCheckpoint } from "../../../verifier/src/formats/index.js";

export interface TimestampedCheckpointsTable {
  /** SHA-256 of `text`, hex. */
  checkpoint_key: string;
  origin: string;
  size: number;
  /** The checkpoint note body exactly as timestamped. */
  text: string;
}
export interface TreeCheckpointTimestampsTable {
  checkpoint_key: string;
  tsa_url: string;
  serial_number: string;
  /** DER TimeStampToken */
  token: Uint8Array;
  /** ISO 8601 */
  gen_time: string;
  policy: string;
  tsa_name: string;
}

type TimestampDb = Database & {
  timestamped_checkpoints: TimestampedCheckpointsTable;
  tree_checkpoint_timestamps: TreeCheckpointTimestampsTable;
};

/** One stored token (the shape of timestamping's `CheckpointTimestamp`). */
export interface StoredTimestamp {
  tsaUrl: string;
  token: Uint8Array;
  genTime: Date;
  serialNumber: string;
  policy: string;
  tsaName: string;
}

/** A stamped checkpoint with its tokens (the shape of timestamping's `StampedCheckpoint`). */
export interface StoredStampedCheckpoint {
  origin: string;
  size: number;
  text: string;
  tokens: StoredTimestamp[];
}

function keyOf(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

export class KyselyTimestampStore {
  private readonly db: Kysely<TimestampDb>;

  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<TimestampDb>;
  }

  /** Idempotent per (text, TSA URL, serial number); a token already stored is never replaced. */
  async add(checkpointText: string, tokens: readonly StoredTimestamp[]): Promise<void> {
    if (tokens.length === 0) return;
    const { origin, size } = parseCheckpoint(checkpointText);
    const key = keyOf(checkpointText);
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto("timestamped_checkpoints")
        .values({ checkpoint_key: key, origin, size, text: checkpointText })
        .onConflict((oc) => oc.column("checkpoint_key").doNothing())
        .execute();
      await trx
        .insertInto("tree_checkpoint_timestamps")
        .values(
          tokens.map((t) => ({
            checkpoint_key: key,
            tsa_url: t.tsaUrl,
            serial_number: t.serialNumber,
            token: t.token,
            gen_time: t.genTime.toISOString(),
            policy: t.policy,
            tsa_name: t.tsaName,
          })),
        )
        .onConflict((oc) => oc.columns(["checkpoint_key", "tsa_url", "serial_number"]).doNothing())
        .execute();
    });
  }

  async tokensFor(checkpointText: string): Promise<StoredTimestamp[]> {
    return this.#tokens(keyOf(checkpointText));
  }

  /** The smallest stamped checkpoint of `origin` with size > leafIndex. */
  async firstCovering(origin: string, leafIndex: number): Promise<StoredStampedCheckpoint | undefined> {
    const row = await this.db
      .selectFrom("timestamped_checkpoints")
      .select(["checkpoint_key", "origin", "size", "text"])
      .where("origin", "=", origin)
      .where("size", ">", leafIndex)
      .orderBy("size", "asc")
      .orderBy("checkpoint_key")
      .limit(1)
      .executeTakeFirst();
    return row && this.#stamped(row);
  }

  async latestStamped(origin: string): Promise<StoredStampedCheckpoint | undefined> {
    const row = await this.db
      .selectFrom("timestamped_checkpoints")
      .select(["checkpoint_key", "origin", "size", "text"])
      .where("origin", "=", origin)
      .orderBy("size", "desc")
      .orderBy("checkpoint_key")
      .limit(1)
      .executeTakeFirst();
    return row && this.#stamped(row);
  }

  async #stamped(row: TimestampedCheckpointsTable): Promise<StoredStampedCheckpoint> {
    return {
      origin: row.origin,
      size: Number(row.size),
      text: row.text,
      tokens: await this.#tokens(row.checkpoint_key),
    };
  }

  async #tokens(key: string): Promise<StoredTimestamp[]> {
    const rows = await this.db
      .selectFrom("tree_checkpoint_timestamps")
      .selectAll()
      .where("checkpoint_key", "=", key)
      // Insertion order is not kept by either database: the earliest token first, then by TSA.
      .orderBy("gen_time")
      .orderBy("tsa_url")
      .orderBy("serial_number")
      .execute();
    return rows.map((r) => ({
      tsaUrl: r.tsa_url,
      token: new Uint8Array(r.token),
      genTime: new Date(r.gen_time),
      serialNumber: r.serial_number,
      policy: r.policy,
      tsaName: r.tsa_name,
    }));
  }
}
