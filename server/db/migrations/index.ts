import { Migrator, type Kysely, type Migration, type MigrationProvider } from "kysely";
import type { Db, DialectName } from "../connect.js";
import { makeInitial } from "./001_initial.js";
import { makeAuditLog } from "./002_audit_log.js";
import { makeMerkleTree } from "./003_merkle_tree.js";
import { makeKeyUsageMonitoring } from "./007_key_usage_monitoring.js";
import { makeTreeCheckpoints } from "./004_tree_checkpoints.js";
import { makeWitnessTimestamps } from "./005_witness_timestamps.js";
import { makeWitnessRetries } from "./008_witness_retries.js";
import { makeAlertResponses } from "./009_alert_responses.js";
import { makeRequestIdsByTime } from "./010_request_ids_by_time.js";

/** In-code provider: ordered by name. Add new migrations to this list (one line each). */
export function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    "001_initial": makeInitial(dialect),
    // The audit log: entries, payloads, checkpoints, chain heads.
    "002_audit_log": makeAuditLog(dialect),
    // Log v2: Merkle tree nodes and the integrated size/root per issuer.
    "003_merkle_tree": makeMerkleTree(dialect),
    // Key-usage monitoring: KMS request ids of Kakunin's Signs, and alerts.
    "007_key_usage_monitoring": makeKeyUsageMonitoring(dialect),
    // Log v2: signed-note checkpoints of every issuer's tree.
    "004_tree_checkpoints": makeTreeCheckpoints(dialect),
    // Witness sizes and checkpoint timestamp tokens (issues 16, 17).
    "005_witness_timestamps": makeWitnessTimestamps(dialect),
    // The newest checkpoint below its witness quorum per origin, retried across restarts (issue 16).
    // 008, not the unused 006: Kysely refuses a migration sorted before one a database already ran (007).
    "008_witness_retries": makeWitnessRetries(dialect),
    // Responses to key-usage alerts per issuer: token suspension on a critical alert, signing-rate limit (issue 18).
    "009_alert_responses": makeAlertResponses(dialect),
    // Reconciliation looks request ids up within a time window: an index on entries.time, not on the random ids (issue 18).
    "010_request_ids_by_time": makeRequestIdsByTime(dialect),
  };
}

export async function migrateToLatest(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    throw new Error(
      `Database migration failed${failed ? ` at ${failed.migrationName}` : ""}: ${String((error as Error)?.message ?? error)}`,
    );
  }
}

/**
 * Migrate under a cross-process lock (PostgreSQL: advisory lock; SQLite: BEGIN IMMEDIATE — Kysely's
 * own migration lock is a no-op on SQLite), so several instances starting at the same moment migrate
 * one after another; the later ones find nothing left to do. On PostgreSQL the outer lock also covers
 * the creation of Kysely's bookkeeping tables.
 */
export async function migrate(handle: Db): Promise<void> {
  await handle.withMigrationLock(() => migrateToLatest(handle.db, handle.dialect));
}
