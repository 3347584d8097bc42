/**
 * Table types of the audit log (migration 002_audit_log). `server/db/schema.ts` lists them in its
 * marked "audit log tables" block; `LogDb` is what the log modules are typed against.
 */
import type { Database } from "../db/schema.js";

export interface EntriesTable {
  issuer_id: string;
  seq: number;
  hash: string;
  prev_hash: string;
  type: string;
  agent_id: string;
  signer_cert: string;
  time: string;
  /** the full entry JSON (with hash and sig) */
  body: string;
}
export interface PayloadsTable {
  issuer_id: string;
  seq: number;
  kind: "json" | "bytes";
  data: Uint8Array;
}
export interface CheckpointsTable {
  issuer_id: string;
  size: number;
  head: string;
  time: string;
  /** the full checkpoint JSON (with sig) */
  body: string;
}
export interface ChainHeadsTable {
  issuer_id: string;
  size: number;
  head: string;
  /** time of the last entry (keeps entry times non-decreasing across processes) */
  time: string;
}

export interface LogTables {
  entries: EntriesTable;
  payloads: PayloadsTable;
  checkpoints: CheckpointsTable;
  chain_heads: ChainHeadsTable;
}

export type LogDb = Database & LogTables;
