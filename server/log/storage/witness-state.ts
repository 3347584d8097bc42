/**
 * What the log keeps of its witnesses, in the database, satisfying server/log/witnessing/state.ts
 * structurally (storage does not import the rooms above it):
 * - `KyselyCosignedSizes` (migration 005, table `witness_sizes`): the size each witness last cosigned
 *   (or named in a 409) per checkpoint origin, so a restarted log does not pay a 409 round trip per
 *   witness; losing it would still be harmless.
 * - `KyselyPendingRetries` (migration 008, table `witness_retries`): the newest checkpoint per origin
 *   below its quorum, so a restarted log resumes retrying it.
 */
import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";

export interface WitnessSizesTable {
  origin: string;
  /** The witness's cosigner verifier key (its identity, whatever local name it is configured under). */
  witness_vkey: string;
  size: number;
}

export interface WitnessRetriesTable {
  origin: string;
  issuer_id: string;
  size: number;
  attempts: number;
  since: string;
  last_attempt_at: string;
  /** JSON array of witness names */
  missing: string;
}

type WitnessDb = Database & { witness_sizes: WitnessSizesTable; witness_retries: WitnessRetriesTable };

/** A row of `witness_retries` as the witnessing room sees it (PendingRetry, structurally). */
export interface PendingRetryRow {
  origin: string;
  issuerId: string;
  size: number;
  attempts: number;
  since: string;
  lastAttemptAt: string;
  missing: string[];
}

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

export class KyselyPendingRetries {
  private readonly db: Kysely<WitnessDb>;

  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<WitnessDb>;
  }

  async list(): Promise<PendingRetryRow[]> {
    return (await this.db.selectFrom("witness_retries").selectAll().orderBy("origin").execute()).map(fromRow);
  }

  async get(origin: string): Promise<PendingRetryRow | undefined> {
    const row = await this.db.selectFrom("witness_retries").selectAll().where("origin", "=", origin).executeTakeFirst();
    return row && fromRow(row);
  }

  /** Upsert unless a larger checkpoint of the origin is recorded (one statement: no read-then-write race). */
  async set(p: PendingRetryRow): Promise<void> {
    const row = {
      origin: p.origin,
      issuer_id: p.issuerId,
      size: p.size,
      attempts: p.attempts,
      since: p.since,
      last_attempt_at: p.lastAttemptAt,
      missing: JSON.stringify(p.missing),
    };
    const { origin: _origin, ...update } = row;
    await this.db
      .insertInto("witness_retries")
      .values(row)
      .onConflict((oc) => oc.column("origin").doUpdateSet(update).where("witness_retries.size", "<=", p.size))
      .execute();
  }

  async clear(origin: string, size: number): Promise<void> {
    await this.db.deleteFrom("witness_retries").where("origin", "=", origin).where("size", "<=", size).execute();
  }
}

function fromRow(r: WitnessRetriesTable): PendingRetryRow {
  let missing: string[] = [];
  try {
    const m = JSON.parse(r.missing) as unknown;
    if (Array.isArray(m)) missing = m.filter((x): x is string => typeof x === "string");
  } catch {
    // an unreadable list shows as empty; the next round rewrites it
  }
  return {
    origin: r.origin,
    issuerId: r.issuer_id,
    // PostgreSQL bigints may arrive as strings.
    size: Number(r.size),
    attempts: Number(r.attempts),
    since: r.since,
    lastAttemptAt: r.last_attempt_at,
    missing,
  };
}
