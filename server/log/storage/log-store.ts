/**
 * LogStore: the one seam between the log and its tables (entries, payloads, chain heads,
 * checkpoints, Merkle tree nodes and heads) — what Tessera keeps behind its storage drivers. The
 * log's modules (appender, checkpoint publisher, export, fork guard, tree catch-up, jobs) call it;
 * nothing else touches a log table. Its implementation over Kysely (SQLite and PostgreSQL, with
 * their differences inside it) is kysely-store.ts.
 */
import type { NodeReader } from "../../../verifier/src/formats/index.js";
import type { SignedCheckpoint } from "../tree/checkpoint-hooks.js";
import type { Checkpoint, LifecycleType, LogEntry, StoredPayload } from "../types.js";
import type { EntryByRequestId } from "./request-ids.js";

export type { EntryByRequestId } from "./request-ids.js";

/** The committed tip of an issuer's chain. */
export interface ChainHead {
  size: number;
  /** hash of entry size-1, or 64 zeros */
  head: string;
  /** time of entry size-1 ("" when empty); entry times never go backwards */
  time: string;
}

/** The chain head moved between reading it and committing onto it (another writer appended first). */
export class ChainConflictError extends Error {
  constructor(issuerId: string) {
    super(`chain head of ${issuerId} moved (another writer appended first)`);
  }
}

/** One signed entry to commit, with its payload if it has one. */
export interface CommitItem {
  entry: LogEntry;
  payload?: StoredPayload;
  /** KMS request id of the entry's Sign: stored beside the entry (never in its JSON), for reconciliation. */
  kmsRequestId?: string;
}

/** A batch committed by {@link LogStore.commitBatch}: the new head, and when it is on stable storage. */
export interface CommittedBatch {
  head: ChainHead;
  /** settles once the commit is on stable storage; the batch's requests are acknowledged then */
  durable: Promise<void>;
}

/** A batch's transaction holding the issuer's chain lock ({@link LogStore.withChainLock}). */
export interface LockedChain {
  /** the head read under the lock */
  readonly head: ChainHead;
  /** the lock was held by another batch when asked for (contention, counted in AppenderStats.chainLockWaits) */
  readonly waited: boolean;
  /** Write `items` onto `head` in this transaction (head compare-and-swap, entries, payloads); the new head. */
  write(items: CommitItem[]): Promise<ChainHead>;
}

/** One exported entry: its stored JSON and, when asked for and not erased, its payload. */
export interface ExportRow {
  seq: number;
  body: string;
  kind?: "json" | "bytes" | null;
  data?: Uint8Array | null;
}

/** Integrated size and root of an issuer's Merkle tree. */
export interface TreeHead {
  size: number;
  root: Uint8Array;
}

/** Reads full-subtree hashes of one issuer's tree; a missing node is an error (the tree is incomplete). */
export interface TreeNodes extends NodeReader {
  /** Integrated size and root, or undefined before the first integration. */
  head(): Promise<TreeHead | undefined>;
}

export interface LogStore {
  /**
   * True when several instances append to one chain and the store has a cross-process chain lock
   * (PostgreSQL): the appender then runs one batch per issuer inside {@link withChainLock}. False
   * (SQLite, one writer): batches overlap, each committed with {@link commitBatch}.
   */
  readonly locksChains: boolean;

  // ---- the chain ----
  /** The committed head (size 0, 64 zeros, "" for an empty chain). */
  head(issuerId: string): Promise<ChainHead>;
  /**
   * Commit `items` onto `expected` in one write transaction through the database's durability
   * (server/db/durability.ts). Throws ChainConflictError if the head is no longer `expected`.
   */
  commitBatch(issuerId: string, expected: ChainHead, items: CommitItem[]): Promise<CommittedBatch>;
  /**
   * Run `fn` in one transaction holding the issuer's chain lock (PostgreSQL: a transaction-scoped
   * advisory lock, released by the COMMIT/ROLLBACK itself), from reading the head to the commit.
   */
  withChainLock<T>(issuerId: string, fn: (chain: LockedChain) => Promise<T>): Promise<T>;
  /** Resolves once every batch committed so far is on stable storage (what readers wait for). */
  flushed(): Promise<void>;
  /** Every chain's size (the checkpoint job). */
  chainSizes(): Promise<{ issuerId: string; size: number }[]>;

  // ---- entries and payloads ----
  /** Entries [from, to] (inclusive), in seq order. */
  entries(issuerId: string, from: number, to: number): Promise<LogEntry[]>;
  entry(issuerId: string, seq: number): Promise<LogEntry | undefined>;
  entryHash(issuerId: string, seq: number): Promise<string | undefined>;
  /** Every lifecycle entry of `type` for `agent`, in seq order. */
  lifecycleEntries(issuerId: string, type: LifecycleType, agent: string): Promise<LogEntry[]>;
  /** Distinct signer certificate serials of entries [from, to]. */
  signerSerials(issuerId: string, from: number, to: number): Promise<string[]>;
  /** Lifecycle entries of [from, to] in keyset pages (constant memory). */
  lifecyclePages(issuerId: string, from: number, to: number): AsyncGenerator<LogEntry[]>;
  /** Entries of [from, to] (with payloads if asked) in keyset pages (constant memory). */
  exportPages(issuerId: string, from: number, to: number, withPayloads: boolean): AsyncGenerator<ExportRow[]>;
  /** Delete the payload of entry `seq`: does the entry exist, and was a payload deleted. */
  erasePayload(issuerId: string, seq: number): Promise<{ entry: boolean; erased: boolean }>;

  // ---- checkpoints ----
  latestCheckpoint(issuerId: string): Promise<Checkpoint | undefined>;
  checkpointOfSize(issuerId: string, size: number): Promise<Checkpoint | undefined>;
  /** The largest stored checkpoint of fewer than `size` entries. */
  latestCheckpointBelow(issuerId: string, size: number): Promise<Checkpoint | undefined>;
  /** Store `cp` unless one of its size is already stored (another process may have signed one). */
  storeCheckpoint(cp: Checkpoint): Promise<void>;
  /** The largest checkpointed size of every issuer that has a checkpoint (the checkpoint job). */
  latestCheckpointSizes(): Promise<Map<string, number>>;

  /** Does the issuer exist (the public checkpoint route answers 404 otherwise). */
  issuerExists(issuerId: string): Promise<boolean>;

  /**
   * Entries from `since` on (ISO 8601) whose Sign had one of these KMS request ids (key-usage
   * reconciliation; never served).
   */
  entriesByKmsRequestId(requestIds: readonly string[], since: string): Promise<EntryByRequestId[]>;

  // ---- Merkle tree ----
  /**
   * Every batch commit ({@link commitBatch}, {@link LockedChain.write}) also appends the batch's
   * leaves to the issuer's tree in the same transaction: tree size == chain size, atomically.
   */
  treeNodes(issuerId: string): TreeNodes;
  /** Called after each commit that grew a tree (this process's commits; not yet necessarily durable). */
  onTreeGrew(listener: (issuerId: string, size: number) => void): void;
  /** Every issuer's chain size and tree size (a tree lags only in a database from before log v2). */
  treeLag(): Promise<{ issuerId: string; chainSize: number; treeSize: number }[]>;
  /** Integrates up to `max` entries of a lagging tree in one write transaction; the tree size afterwards. */
  catchUpTree(issuerId: string, max: number): Promise<number>;

  // ---- signed-note checkpoints (log v2) ----
  /** Stores the note of a checkpoint of `size` unless one is stored (another process signed first); was it stored. */
  storeTreeCheckpoint(issuerId: string, size: number, note: string, createdAt: string): Promise<boolean>;
  latestTreeCheckpoint(issuerId: string): Promise<SignedCheckpoint | undefined>;
  treeCheckpointAt(issuerId: string, size: number): Promise<SignedCheckpoint | undefined>;
  /**
   * Replaces the stored note of checkpoint `size` by `note`: same body and a superset of its
   * signature lines, the log's first (CheckpointNoteError otherwise; nothing changes).
   */
  addCheckpointSignatures(issuerId: string, size: number, note: string): Promise<SignedCheckpoint>;
  /** The latest checkpoint size of every issuer that has one. */
  treeCheckpointSizes(): Promise<Map<string, number>>;
  /** The stored notes of sizes in [minSize, maxSize], the newest `limit`, ascending (an export's tree-checkpoint lines). */
  treeCheckpointNotes(
    issuerId: string,
    minSize: number,
    maxSize: number,
    limit: number,
  ): Promise<{ size: number; note: string }[]>;
}
