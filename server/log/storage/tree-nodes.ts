/**
 * The Merkle tree's tables (migration 003): full-subtree hashes (`tree_nodes`) read as a
 * {@link NodeReader} for `@kakunin/verifier/formats` (`buildProof`, `rootFromNodes`, `tileNodes`),
 * and the tree's head (`tree_heads`; written by tree-append.ts).
 */
import type { Kysely } from "kysely";
import type { NodeId } from "../../../verifier/src/formats/index.js";
import { TREE_READ_CHUNK } from "../tuning.js";
import type { TreeHead, TreeNodes } from "./log-store.js";
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
