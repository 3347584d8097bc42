/**
 * The Merkle tree's tables (migration 003): full-subtree hashes (`tree_nodes`) read as a
 * {@link NodeReader} for `@kakunin/verifier/formats` (`buildProof`, `rootFromNodes`, `tileNodes`),
 * and the statements of one integration (`tree_heads` advanced with a compare-and-swap on `size`).
 */
import type { Kysely, Transaction } from "kysely";
import type { NodeId } from "../../../verifier/src/formats/index.js";
import { TREE_INSERT_CHUNK, TREE_READ_CHUNK } from "../tuning.js";
import type { TreeHead, TreeNodes, TreeTransaction } from "./log-store.js";
import type { LogDb } from "./tables.js";

/** Reads full-subtree hashes of `issuerId`'s tree; a missing node is an error (the tree is incomplete). */
export class TreeNodeReader implements TreeNodes {
  constructor(
    private readonly db: Kysely<LogDb>,
    private readonly issuerId: string,
  ) {}

  async readNodes(ids: readonly NodeId[]): Promise<Uint8Array[]> {
    const found = new Map<string, Uint8Array>();
    for (let i = 0; i < ids.length; i += TREE_READ_CHUNK) {
      const chunk = ids.slice(i, i + TREE_READ_CHUNK);
      const rows = await this.db
        .selectFrom("tree_nodes")
        .select(["level", "idx", "hash"])
        .where("issuer_id", "=", this.issuerId)
        .where((eb) => eb.or(chunk.map((id) => eb.and([eb("level", "=", id.level), eb("idx", "=", id.index)]))))
        .execute();
      // PostgreSQL bigints may arrive as strings: Number() either way.
      for (const r of rows) found.set(`${r.level}/${Number(r.idx)}`, new Uint8Array(r.hash));
    }
    return ids.map((id) => {
      const h = found.get(`${id.level}/${id.index}`);
      if (!h) throw new Error(`tree node ${id.level}/${id.index} of ${this.issuerId} is missing`);
      return h;
    });
  }

  async head(): Promise<TreeHead | undefined> {
    const row = await this.db
      .selectFrom("tree_heads")
      .select(["size", "root"])
      .where("issuer_id", "=", this.issuerId)
      .executeTakeFirst();
    return row ? { size: Number(row.size), root: new Uint8Array(row.root) } : undefined;
  }
}

/** The statements of one integration, inside the caller's transaction. */
export function treeTransaction(trx: Transaction<LogDb>): TreeTransaction {
  return {
    nodes: (issuerId) => new TreeNodeReader(trx, issuerId),
    async entriesFrom(issuerId, from, max) {
      const rows = await trx
        .selectFrom("entries")
        .select(["seq", "body"])
        .where("issuer_id", "=", issuerId)
        .where("seq", ">=", from)
        .orderBy("seq")
        .limit(max)
        .execute();
      return rows.map((r) => ({ seq: Number(r.seq), body: r.body }));
    },
    async insertNodes(issuerId, nodes) {
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
    },
    async advance(issuerId, from, size, root) {
      if (from === undefined) {
        await trx.insertInto("tree_heads").values({ issuer_id: issuerId, size, root }).execute();
        return true;
      }
      const res = await trx
        .updateTable("tree_heads")
        .set({ size, root })
        .where("issuer_id", "=", issuerId)
        .where("size", "=", from)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) === 1;
    },
  };
}
