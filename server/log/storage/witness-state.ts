/**
 * The size each witness last cosigned (or named in a 409) per checkpoint origin, in the database
 * (migration 005, table `witness_sizes`): the `CosignedSizes` of server/log/witnessing/state.ts,
 * satisfied structurally (storage does not import the rooms above it). Survives restarts, so a
 * restarted log does not pay a 409 round trip per witness; losing it would still be harmless.
 */
import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";

export interface WitnessSizesTable {
  origin: string;
  /** The witness's cosigner verifier key (its identity, whatever local name it is configured under). */
  witness_vkey: string;
  size: number;
}

type WitnessDb = Database & { witness_sizes: WitnessSizesTable };

export class KyselyCosignedSizes {
  private readonly db: Kysely<WitnessDb>;

  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<WitnessDb>;
  }

  async get(witnessVkey: string, origin: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom("witness_sizes")
      .select("size")
      .where("origin", "=", origin)
      .where("witness_vkey", "=", witnessVkey)
      .executeTakeFirst();
    // PostgreSQL bigints may arrive as strings.
    return row ? Number(row.size) : undefined;
  }

  /** Upsert: the witness's word is the latest, even when smaller (a witness that lost its state says so in a 409). */
  async set(witnessVkey: string, origin: string, size: number): Promise<void> {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`witness size ${size} is not a tree size`);
    await this.db
      .insertInto("witness_sizes")
      .values({ origin, witness_vkey: witnessVkey, size })
      .onConflict((oc) => oc.columns(["origin", "witness_vkey"]).doUpdateSet({ size }))
      .execute();
  }
}
