/**
 * The log's tuning constants, named in one place (as Tessera names its defaults). Options of the
 * same name (AppenderOptions, AuditLogOptions, CheckpointPublisherOptions) override the first group;
 * the storage sizes are fixed. Why each value is what it is: server/log/README.md ("Appending").
 */

// ---- Appending (appender.ts, batch-steps.ts, pipelined-runner.ts) ----

/** Entries per batch: one KMS round trip (signatures run concurrently) and one transaction each. */
export const DEFAULT_MAX_BATCH = 256;
/** Pending requests per issuer before an append is refused with 503 ERR_OVERLOADED. */
export const DEFAULT_MAX_QUEUE = 4096;
/** Signing attempts per request before it fails with the KMS error. */
export const DEFAULT_MAX_SIGN_ATTEMPTS = 3;
/** A key-state error (certificate superseded or revoked meanwhile) is retried until this many attempts: once. */
export const MAX_KEY_STATE_ATTEMPTS = 2;
/** Chain-head conflicts per request before it fails with 503 ERR_OVERLOADED. */
export const DEFAULT_MAX_HEAD_CONFLICTS = 20;
/** SQLite: batches of one issuer signing at the same time. */
export const DEFAULT_MAX_IN_FLIGHT = 4;
/** SQLite: while a batch is signing, the next one is launched at most this often (ms), unless a full batch is queued. */
export const DEFAULT_LAUNCH_INTERVAL_MS = 10;
/** Back-off (ms) before the next batch after a chain-head conflict. */
export const CONFLICT_BACKOFF_MS = 5;
/** Back-off (ms) after failed signatures: RETRY_BACKOFF_BASE_MS × 2^attempts, at most RETRY_BACKOFF_MAX_MS. */
export const RETRY_BACKOFF_BASE_MS = 20;
export const RETRY_BACKOFF_MAX_MS = 400;

// ---- Checkpoints (checkpoints.ts) ----

/** Trailing debounce (ms) of checkpoint publication after appends, per issuer (0 = only on demand). */
export const DEFAULT_CHECKPOINT_DEBOUNCE_MS = 1000;
/** How long a reader waits for KMS to sign a fresh checkpoint while KMS is degraded (ms). */
export const DEGRADED_READ_WAIT_MS = 250;

// ---- Reads (audit-log.ts, certificates.ts) ----

/** Entries per page of GET /v1/log/entries. */
export const MAX_PAGE = 1000;
/** Certificate PEMs kept by the appender's signer resolution (immutable once stored). */
export const SIGNER_PEM_CACHE_SIZE = 10_000;
/** CRL PEMs kept for receipts. */
export const CRL_PEM_CACHE_SIZE = 16;

// ---- Storage (storage/) ----

/** Rows per INSERT of entries and payloads (well under SQLite's bound-parameter limit). */
export const INSERT_CHUNK = 100;
/** Rows per keyset page when streaming an export or scanning lifecycle entries. */
export const EXPORT_PAGE = 500;
/** Certificates per query of an export's certificate lines. */
export const CERTIFICATE_CHUNK = 200;
/** Merkle tree: node keys per lookup query (bounded statement size whatever the proof). */
export const TREE_READ_CHUNK = 200;
/** Merkle tree: nodes per INSERT. */
export const TREE_INSERT_CHUNK = 500;
/** Merkle tree: most entries integrated per transaction. */
export const DEFAULT_INTEGRATE_BATCH = 4096;
