/**
 * Kysely table types. Portable conventions (SQLite and PostgreSQL): timestamps are ISO-8601 UTC
 * text with milliseconds, booleans are integers, binary columns are Uint8Array (blob / bytea).
 * No column ever holds private key material or a plaintext token.
 */
export type Role = "operator" | "issuer" | "agent";
/** `tlog`: the Ed25519 key that signs the log v2 checkpoints (C2SP signed notes). */
export type KeyPurpose = "agent" | "ca" | "log" | "tlog";
export type KeyState = "Enabled" | "Disabled" | "PendingCreation";
export type CertificateStatus = "active" | "superseded" | "revoked";
export type CertificateRole = "agent" | "ca" | "log";

export interface IssuersTable {
  id: string;
  name: string;
  created_at: string;
}
export interface TokensTable {
  id: string;
  token_hash: string; // lowercase hex SHA-256 of the token
  role: Role;
  issuer_id: string | null;
  agent_id: string | null;
  created_at: string;
  revoked_at: string | null;
  /** Suspended (refused with 403 ERR_TOKEN_SUSPENDED) since, until its issuer resumes it (migration 009). */
  suspended_at: string | null;
  /** The id of the critical alert that suspended it. */
  suspended_by_alert: string | null;
}
/** An issuer's responses to key-usage alerts (migration 009); no row = off and no limit. */
export interface IssuerResponsesTable {
  issuer_id: string;
  /** 1: a critical alert about one of its agents suspends that agent's tokens. */
  suspend_on_critical: number;
  /** The per-agent signing-rate limit; both null = none. */
  rate_per_minute: number | null;
  rate_burst: number | null;
  updated_at: string;
}
export interface AgentsTable {
  id: string;
  issuer_id: string;
  name: string;
  status: "active" | "revoked";
  created_at: string;
}
export interface KeysTable {
  arn: string;
  agent_id: string | null;
  purpose: KeyPurpose;
  state: KeyState;
  public_key: Uint8Array; // DER SubjectPublicKeyInfo
  created_at: string;
  disabled_at: string | null;
}
export interface CertificatesTable {
  serial: string; // lowercase hex
  agent_id: string | null;
  key_arn: string;
  role: CertificateRole;
  der: Uint8Array;
  not_before: string;
  not_after: string;
  status: CertificateStatus;
  superseded_at: string | null;
  revoked_at: string | null;
  revocation_reason: string | null;
  created_at: string;
}
export interface CrlsTable {
  number: number;
  der: Uint8Array;
  this_update: string;
  next_update: string;
  created_at: string;
}
/** Rotation progress (DESIGN order): new key created+stored → new cert issued and old superseded → old key disabled → logged. */
export type RotationStep = "started" | "key_created" | "old_superseded" | "old_key_disabled" | "completed";
export interface RotationsTable {
  id: string;
  agent_id: string;
  old_serial: string;
  new_key_arn: string | null;
  new_serial: string | null;
  step: RotationStep;
  created_at: string;
  completed_at: string | null;
}
/** Revocation progress: cert revoked → key disabled → CRL published → logged. */
export type RevocationStep = "revoked" | "key_disabled" | "crl_published" | "completed";
export interface RevocationsTable {
  serial: string;
  agent_id: string;
  reason: string;
  revoked_at: string;
  step: RevocationStep;
  crl_number: number | null;
  completed_at: string | null;
}
export interface SystemTable {
  name: string;
  value: string;
}
export interface LeasesTable {
  name: string;
  owner: string;
  expires_at: string;
}

export interface Database {
  issuers: IssuersTable;
  tokens: TokensTable;
  issuer_responses: IssuerResponsesTable;
  agents: AgentsTable;
  keys: KeysTable;
  certificates: CertificatesTable;
  crls: CrlsTable;
  rotations: RotationsTable;
  revocations: RevocationsTable;
  system: SystemTable;
  leases: LeasesTable;
  // The log's tables (entries, payloads, checkpoints, chain_heads, tree_nodes, tree_heads) are typed
  // in server/log/storage/tables.ts: only the log's storage queries them.
}
