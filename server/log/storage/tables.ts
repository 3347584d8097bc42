/**
 * Table types of the log (migrations 002_audit_log, 003_merkle_tree and 004_tree_checkpoints). They are not part of
 * `Database` (server/db/schema.ts): only the log's storage (this folder) is typed against `LogDb`,
 * so no other module can query a log table without saying so.
 */
import type { Database } from "../../db/schema.js";

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
/** Every full subtree hash of an issuer's Merkle tree; level 0 = leaf hashes. */
export interface TreeNodesTable {
  issuer_id: string;
  level: number;
  idx: number;
  hash: Uint8Array;
}
/** How many entries are integrated into the tree, and its root at that size. */
export interface TreeHeadsTable {
  issuer_id: string;
  size: number;
  root: Uint8Array;
}

/** Every signed-note checkpoint of an issuer's tree (log signature first, then cosignatures). */
export interface TreeCheckpointsTable {
  issuer_id: string;
  size: number;
  note: string;
  created_at: string;
}

export interface LogTables {
  entries: EntriesTable;
  payloads: PayloadsTable;
  checkpoints: CheckpointsTable;
  chain_heads: ChainHeadsTable;
  tree_nodes: TreeNodesTable;
  tree_heads: TreeHeadsTable;
  tree_checkpoints: TreeCheckpointsTable;
}

export type LogDb = Database & LogTables;
