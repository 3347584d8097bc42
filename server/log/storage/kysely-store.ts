/**
 * The LogStore over Kysely: SQLite (better-sqlite3, prepared statements reused by SQL text,
 * server/db/connect.ts) and PostgreSQL (`pg`). Their differences stay in here and in committer.ts:
 * PostgreSQL locks the chain (advisory transaction lock + FOR UPDATE on the head row) and commits
 * batches one at a time per issuer; SQLite has one writer, and its batch commits go through the WAL
 * group sync (`durability`, server/db/durability.ts).
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema.js";
import type { DialectName } from "../../db/connect.js";
import { synchronousCommits, type CommitDurability } from "../../db/durability.js";
import type { Checkpoint, LifecycleType, LogEntry } from "../types.js";
import { EXPORT_PAGE } from "../tuning.js";
import { lockChain, readHead, writeBatch } from "./committer.js";
import type {
  ChainHead,
  CommitItem,
  CommittedBatch,
  ExportRow,
  LockedChain,
  LogStore,
  TreeNodes,
} from "./log-store.js";
import type { LogDb } from "./tables.js";
import { TreeNodeReader } from "./tree-nodes.js";
import { entriesByKmsRequestId, type EntryByRequestId } from "./request-ids.js";
import { appendToTree, catchUpChunk } from "./tree-append.js";
import * as checkpoints from "./tree-checkpoints.js";
import type { RightEdge } from "../tree/right-edge.js";
import type { SignedCheckpoint } from "../tree/checkpoint-hooks.js";

export interface KyselyLogStoreOptions {
  db: Kysely<Database>;
  dialect: DialectName;
  /** How batch commits reach stable storage (the database handle's `durability`; default: the commit itself). */
  durability?: CommitDurability;
}

const LIFECYCLE_TYPES: LifecycleType[] = ["agent.registered", "key.rotated", "certificate.revoked"];

export class KyselyLogStore implements LogStore {
  readonly locksChains: boolean;
  private readonly db: Kysely<LogDb>;
  private readonly dialect: DialectName;
  private readonly durability: CommitDurability;
  /** The right edge of each issuer's tree as of this process's last commit (re-read when another process appended). */
  private readonly edges = new Map<string, RightEdge>();
  private readonly treeListeners: ((issuerId: string, size: number) => void)[] = [];

  constructor(o: KyselyLogStoreOptions) {
    this.db = o.db as unknown as Kysely<LogDb>;
    this.dialect = o.dialect;
    this.locksChains = o.dialect === "postgres";
    this.durability = o.durability ?? synchronousCommits;
  }

  // ---- the chain ----

  head(issuerId: string): Promise<ChainHead> {
    return readHead(this.db, issuerId);
  }

  async commitBatch(issuerId: string, expected: ChainHead, items: CommitItem[]): Promise<CommittedBatch> {
    try {
      const c = await this.durability.commit(this.db, async (trx) => {
        const head = await writeBatch(trx, this.dialect, issuerId, expected, items);
        const edge = items.length ? await this.extendTree(trx, issuerId, expected.size, items) : undefined;
        return { head, edge };
      });
      this.treeCommitted(issuerId, c.value.edge);
      return { head: c.value.head, durable: c.durable };
    } catch (e) {
      this.edges.delete(issuerId);
      throw e;
    }
  }

  async withChainLock<T>(issuerId: string, fn: (chain: LockedChain) => Promise<T>): Promise<T> {
    const { dialect } = this;
    let edge: RightEdge | undefined;
    try {
      const out = await this.db.transaction().execute(async (trx) => {
        const { waited } = await lockChain(trx, dialect, issuerId);
        const head = await readHead(trx, issuerId);
        return fn({
          head,
          waited,
          write: async (items) => {
            const next = await writeBatch(trx, dialect, issuerId, head, items);
            if (items.length) edge = await this.extendTree(trx, issuerId, head.size, items);
            return next;
          },
        });
      });
      this.treeCommitted(issuerId, edge);
      return out;
    } catch (e) {
      this.edges.delete(issuerId);
      throw e;
    }
  }

  private extendTree(trx: Transaction<LogDb>, issuerId: string, base: number, items: CommitItem[]) {
    return appendToTree(
      trx,
      issuerId,
      base,
      items.map((i) => i.entry),
      this.edges.get(issuerId),
    );
  }

  /** After the commit: keep the new edge, tell the listeners (the checkpoint publisher). */
  private treeCommitted(issuerId: string, edge: RightEdge | undefined): void {
    if (!edge) return;
    this.edges.set(issuerId, edge);
    for (const l of this.treeListeners) l(issuerId, edge.size);
  }

  flushed(): Promise<void> {
    return this.durability.flushed();
  }

  async chainSizes(): Promise<{ issuerId: string; size: number }[]> {
    const rows = await this.db.selectFrom("chain_heads").select(["issuer_id", "size"]).execute();
    return rows.map((r) => ({ issuerId: r.issuer_id, size: Number(r.size) }));
  }

  // ---- entries and payloads ----

  async entries(issuerId: string, from: number, to: number): Promise<LogEntry[]> {
    const rows = await this.db
      .selectFrom("entries")
      .select("body")
      .where("issuer_id", "=", issuerId)
      .where("seq", ">=", from)
      .where("seq", "<=", to)
      .orderBy("seq", "asc")
      .execute();
    return rows.map((r) => JSON.parse(r.body) as LogEntry);
  }

  async entry(issuerId: string, seq: number): Promise<LogEntry | undefined> {
    const row = await this.db
      .selectFrom("entries")
      .select("body")
      .where("issuer_id", "=", issuerId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    return row ? (JSON.parse(row.body) as LogEntry) : undefined;
  }

  async entryHash(issuerId: string, seq: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom("entries")
      .select("hash")
      .where("issuer_id", "=", issuerId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    return row?.hash;
  }

  async lifecycleEntries(issuerId: string, type: LifecycleType, agent: string): Promise<LogEntry[]> {
    const rows = await this.db
      .selectFrom("entries")
      .select("body")
      .where("issuer_id", "=", issuerId)
      .where("type", "=", type)
      .where("agent_id", "=", agent)
      .orderBy("seq", "asc")
      .execute();
    return rows.map((r) => JSON.parse(r.body) as LogEntry);
  }

  async signerSerials(issuerId: string, from: number, to: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom("entries")
      .select("signer_cert")
      .distinct()
      .where("issuer_id", "=", issuerId)
      .where("seq", ">=", from)
      .where("seq", "<=", to)
      .execute();
    return rows.map((r) => r.signer_cert);
  }

  async *lifecyclePages(issuerId: string, from: number, to: number): AsyncGenerator<LogEntry[]> {
    let cursor = from;
    for (;;) {
      const rows = await this.db
        .selectFrom("entries")
        .select(["seq", "body"])
        .where("issuer_id", "=", issuerId)
        .where("type", "in", LIFECYCLE_TYPES)
        .where("seq", ">=", cursor)
        .where("seq", "<=", to)
        .orderBy("seq", "asc")
        .limit(EXPORT_PAGE)
        .execute();
      yield rows.map((r) => JSON.parse(r.body) as LogEntry);
      if (rows.length < EXPORT_PAGE) return;
      cursor = Number(rows[rows.length - 1]!.seq) + 1;
    }
  }

  async *exportPages(issuerId: string, from: number, to: number, withPayloads: boolean): AsyncGenerator<ExportRow[]> {
    let cursor = from;
    while (cursor <= to) {
      const base = this.db
        .selectFrom("entries")
        .where("entries.issuer_id", "=", issuerId)
        .where("entries.seq", ">=", cursor)
        .where("entries.seq", "<=", to)
        .orderBy("entries.seq", "asc")
        .limit(EXPORT_PAGE);
      const rows: ExportRow[] = withPayloads
        ? await base
            .leftJoin("payloads", (j) =>
              j.onRef("payloads.issuer_id", "=", "entries.issuer_id").onRef("payloads.seq", "=", "entries.seq"),
            )
            .select(["entries.seq", "entries.body", "payloads.kind", "payloads.data"])
            .execute()
        : await base.select(["entries.seq", "entries.body"]).execute();
      if (rows.length === 0) return;
      yield rows;
      cursor = Number(rows[rows.length - 1]!.seq) + 1;
    }
  }

  async erasePayload(issuerId: string, seq: number): Promise<{ entry: boolean; erased: boolean }> {
    const entry = await this.db
      .selectFrom("entries")
      .select("seq")
      .where("issuer_id", "=", issuerId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    if (!entry) return { entry: false, erased: false };
    const res = await this.db
      .deleteFrom("payloads")
      .where("issuer_id", "=", issuerId)
      .where("seq", "=", seq)
      .executeTakeFirst();
    return { entry: true, erased: Number(res.numDeletedRows) > 0 };
  }

  // ---- checkpoints ----

  async latestCheckpoint(issuerId: string): Promise<Checkpoint | undefined> {
    const row = await this.db
      .selectFrom("checkpoints")
      .select("body")
      .where("issuer_id", "=", issuerId)
      .orderBy("size", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? (JSON.parse(row.body) as Checkpoint) : undefined;
  }

  async checkpointOfSize(issuerId: string, size: number): Promise<Checkpoint | undefined> {
    const row = await this.db
      .selectFrom("checkpoints")
      .select("body")
      .where("issuer_id", "=", issuerId)
      .where("size", "=", size)
      .executeTakeFirst();
    return row ? (JSON.parse(row.body) as Checkpoint) : undefined;
  }

  async latestCheckpointBelow(issuerId: string, size: number): Promise<Checkpoint | undefined> {
    const row = await this.db
      .selectFrom("checkpoints")
      .select("body")
      .where("issuer_id", "=", issuerId)
      .where("size", "<", size)
      .orderBy("size", "desc")
      .limit(1)
      .executeTakeFirst();
    return row ? (JSON.parse(row.body) as Checkpoint) : undefined;
  }

  async storeCheckpoint(cp: Checkpoint): Promise<void> {
    await this.db
      .insertInto("checkpoints")
      .values({ issuer_id: cp.issuer, size: cp.size, head: cp.head, time: cp.time, body: JSON.stringify(cp) })
      .onConflict((oc) => oc.columns(["issuer_id", "size"]).doNothing())
      .execute();
  }

  async latestCheckpointSizes(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom("checkpoints")
      .select(["issuer_id", (eb) => eb.fn.max("size").as("size")])
      .groupBy("issuer_id")
      .execute();
    return new Map(rows.map((r) => [r.issuer_id, Number(r.size)]));
  }

  async issuerExists(issuerId: string): Promise<boolean> {
    return (
      (await this.db.selectFrom("issuers").select("id").where("id", "=", issuerId).executeTakeFirst()) !== undefined
    );
  }

  entriesByKmsRequestId(requestIds: readonly string[], since: string): Promise<EntryByRequestId[]> {
    return entriesByKmsRequestId(this.db, requestIds, since);
  }

  // ---- Merkle tree ----

  treeNodes(issuerId: string): TreeNodes {
    return new TreeNodeReader(this.db, issuerId);
  }

  onTreeGrew(listener: (issuerId: string, size: number) => void): void {
    this.treeListeners.push(listener);
  }

  treeLag(): Promise<{ issuerId: string; chainSize: number; treeSize: number }[]> {
    return checkpoints.treeLag(this.db);
  }

  async catchUpTree(issuerId: string, max: number): Promise<number> {
    this.edges.delete(issuerId);
    return this.db.transaction().execute((trx) => catchUpChunk(trx, issuerId, max));
  }

  // ---- signed-note checkpoints ----

  storeTreeCheckpoint(issuerId: string, size: number, note: string, createdAt: string): Promise<boolean> {
    return checkpoints.storeTreeCheckpoint(this.db, issuerId, size, note, createdAt);
  }

  latestTreeCheckpoint(issuerId: string): Promise<SignedCheckpoint | undefined> {
    return checkpoints.latestTreeCheckpoint(this.db, issuerId);
  }

  treeCheckpointAt(issuerId: string, size: number): Promise<SignedCheckpoint | undefined> {
    return checkpoints.treeCheckpointAt(this.db, issuerId, size);
  }

  addCheckpointSignatures(issuerId: string, size: number, note: string): Promise<SignedCheckpoint> {
    return checkpoints.addCheckpointSignatures(this.db, issuerId, size, note);
  }

  treeCheckpointSizes(): Promise<Map<string, number>> {
    return checkpoints.treeCheckpointSizes(this.db);
  }

  treeCheckpointNotes(
    issuerId: string,
    minSize: number,
    maxSize: number,
    limit: number,
  ): Promise<{ size: number; note: string }[]> {
    return checkpoints.treeCheckpointNotes(this.db, issuerId, minSize, maxSize, limit);
  }
}
