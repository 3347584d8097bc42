/**
 * Extends an issuer's Merkle tree inside the batch commit's transaction, after `chain_heads` has
 * been advanced (so on SQLite the transaction already holds the write lock when it first reads —
 * no stale snapshot — and on PostgreSQL the head row is locked): the batch's leaf hashes are
 * appended to the right edge, the nodes they complete are inserted and `tree_heads` is advanced
 * with a compare-and-swap on its size. Tree size == chain size, in the same commit.
 *
 * The right edge is cached per issuer by the store; when its size is not the batch's base size
 * (another process appended meanwhile, or the first batch) the O(log n) edge nodes are re-read
 * here. A tree that lags its chain (a database from before log v2 not yet caught up) is caught up
 * in this transaction first.
 */
import type { Transaction } from "kysely";
import { RightEdge, entryLeafHashSync, type TreeNode } from "../tree/right-edge.js";
import { TREE_INSERT_CHUNK } from "../tuning.js";
import type { LogEntry } from "../types.js";
import { TreeNodeReader } from "./tree-nodes.js";
import type { LogDb } from "./tables.js";

export class TreeAppendError extends Error {
  readonly code = "ERR_TREE_INTEGRATION";
}

/** Reads the stored right edge of a tree of `size` (empty tree: nothing to read). */
async function readEdge(trx: Transaction<LogDb>, issuerId: string, size: number): Promise<RightEdge> {
  if (size === 0) return RightEdge.empty();
  const hashes = await new TreeNodeReader(trx, issuerId).readNodes(RightEdge.nodeIds(size));
  return RightEdge.resume(size, hashes);
}

/** The stored tree size of `issuerId` (undefined: no tree_heads row yet). */
async function storedTreeSize(trx: Transaction<LogDb>, issuerId: string): Promise<number | undefined> {
  const row = await trx.selectFrom("tree_heads").select("size").where("issuer_id", "=", issuerId).executeTakeFirst();
  return row ? Number(row.size) : undefined;
}

export async function insertTreeNodes(trx: Transaction<LogDb>, issuerId: string, nodes: readonly TreeNode[]) {
  for (let i = 0; i < nodes.length; i += TREE_INSERT_CHUNK) {
    await trx
      .insertInto("tree_nodes")
      .values(
        nodes
          .slice(i, i + TREE_INSERT_CHUNK)
          .map((n) => ({ issuer_id: issuerId, level: n.id.level, idx: n.id.index, hash: n.hash })),
      )
      .execute();
  }
}

/** Moves tree_heads from `from` (undefined: no row yet) to the edge's size and root; throws if it moved meanwhile. */
export async function advanceTreeHead(
  trx: Transaction<LogDb>,
  issuerId: string,
  from: number | undefined,
  edge: RightEdge,
): Promise<void> {
  const root = edge.root();
  if (from === undefined) {
    await trx.insertInto("tree_heads").values({ issuer_id: issuerId, size: edge.size, root }).execute();
    return;
  }
  const res = await trx
    .updateTable("tree_heads")
    .set({ size: edge.size, root })
    .where("issuer_id", "=", issuerId)
    .where("size", "=", from)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw new TreeAppendError(`tree head of ${issuerId} moved during the commit`);
}

/**
 * Appends `entries` (seq base.. in order) to the tree in `trx`; returns the new right edge for the
 * store's cache (to be kept only once the transaction has committed).
 */
export async function appendToTree(
  trx: Transaction<LogDb>,
  issuerId: string,
  baseSize: number,
  entries: readonly LogEntry[],
  cached: RightEdge | undefined,
): Promise<RightEdge> {
  let edge: RightEdge;
  let from: number | undefined;
  if (cached && cached.size === baseSize && baseSize > 0) {
    edge = cached.clone();
    from = baseSize;
  } else {
    from = await storedTreeSize(trx, issuerId);
    const treeSize = from ?? 0;
    if (treeSize > baseSize)
      throw new TreeAppendError(`tree of ${issuerId} (${treeSize}) is ahead of its chain (${baseSize})`);
    edge = await readEdge(trx, issuerId, treeSize);
    if (treeSize < baseSize) await catchUpInTransaction(trx, issuerId, edge, baseSize);
  }
  const nodes: TreeNode[] = [];
  for (const e of entries) {
    if (e.seq !== edge.size) throw new TreeAppendError(`entry ${e.seq} of ${issuerId} is not leaf ${edge.size}`);
    for (const n of edge.append(entryLeafHashSync(e))) nodes.push(n);
  }
  await insertTreeNodes(trx, issuerId, nodes);
  await advanceTreeHead(trx, issuerId, from, edge);
  return edge;
}

/** Appends the stored entries [edge.size, to) to `edge`, inserting their nodes (tree_heads is advanced by the caller). */
async function catchUpInTransaction(trx: Transaction<LogDb>, issuerId: string, edge: RightEdge, to: number) {
  while (edge.size < to) {
    const rows = await trx
      .selectFrom("entries")
      .select(["seq", "body"])
      .where("issuer_id", "=", issuerId)
      .where("seq", ">=", edge.size)
      .where("seq", "<", to)
      .orderBy("seq")
      .limit(TREE_INSERT_CHUNK)
      .execute();
    if (rows.length === 0) throw new TreeAppendError(`entry ${edge.size} of ${issuerId} is missing`);
    const nodes: TreeNode[] = [];
    for (const r of rows) {
      if (Number(r.seq) !== edge.size) throw new TreeAppendError(`entry ${edge.size} of ${issuerId} is missing`);
      for (const n of edge.append(entryLeafHashSync(JSON.parse(r.body) as object))) nodes.push(n);
    }
    await insertTreeNodes(trx, issuerId, nodes);
  }
}

/**
 * One chunk of start-up catch-up for a tree that lags its chain. The first statement is a write
 * (touching the chain head row) so the transaction holds SQLite's write lock, and PostgreSQL's row
 * lock on the head, before it reads: appends wait for it instead of racing it.
 */
export async function catchUpChunk(trx: Transaction<LogDb>, issuerId: string, max: number): Promise<number> {
  await trx
    .updateTable("chain_heads")
    .set((eb) => ({ size: eb.ref("size") }))
    .where("issuer_id", "=", issuerId)
    .execute();
  const chain = await trx.selectFrom("chain_heads").select("size").where("issuer_id", "=", issuerId).executeTakeFirst();
  const chainSize = chain ? Number(chain.size) : 0;
  const from = await storedTreeSize(trx, issuerId);
  const treeSize = from ?? 0;
  if (treeSize >= chainSize) return treeSize;
  const edge = await readEdge(trx, issuerId, treeSize);
  await catchUpInTransaction(trx, issuerId, edge, Math.min(chainSize, treeSize + max));
  await advanceTreeHead(trx, issuerId, from, edge);
  return edge.size;
}
