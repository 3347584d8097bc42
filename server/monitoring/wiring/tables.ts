/**
 * Tables of key-usage monitoring (migration 007). Like the log's tables they are not part of
 * `Database`: only the monitoring wiring (this folder) is typed against them.
 */
import type { Database } from "../../db/schema.js";

/** Request ids of Kakunin's Signs other than entries (certificates, CRLs, checkpoints). */
export interface KmsSignaturesTable {
  request_id: string;
  key_arn: string;
  created_at: string;
}

export interface AlertsTable {
  id: string;
  time: string;
  issuer_id: string | null;
  agent_id: string | null;
  key_arn: string | null;
  kind: string;
  severity: string;
  summary: string;
  /** evidence JSON */
  evidence: string;
}

export type MonitoringDb = Database & { kms_signatures: KmsSignaturesTable; alerts: AlertsTable };
