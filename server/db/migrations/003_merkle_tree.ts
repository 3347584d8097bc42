import { sql, type Kysely } from "kysely";
import type { DialectName } from "../connect.js";

/**
 * Log v2 Merkle tree (issue 15), one per issuer:
 * - tree_nodes: every full subtree hash (level, index); level 0 = leaf hashes. Proofs and tiles are
 *   O(log n) primary-key reads.
 * - tree_heads: how many entries are integrated and the root at that size; each batch commit advances
 *   it with a compare-and-swap on `size` in the transaction that inserts the nodes.
 */
export function makeMerkleTree(dialect: DialectName) {
  const blob = dialect === "postgres" ? sql`bytea` : sql`blob`;
  const big = dialect === "postgres" ? sql`bigint` : sql`integer`;
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable("tree_nodes")
        .addColumn("issuer_id", "text", (c) => c.notNull().references("issuers.id"))
        .addColumn("level", "integer", (c) => c.notNull())
        .addColumn("idx", big, (c) => c.notNull())
        .addColumn("hash", blob, (c) => c.notNull())
        .addPrimaryKeyConstraint("tree_nodes_pk", ["issuer_id", "level", "idx"])
        .execute();
      await db.schema
        .createTable("tree_heads")
        .addColumn("issuer_id", "text", (c) => c.primaryKey().references("issuers.id"))
        .addColumn("size", big, (c) => c.notNull())
        .addColumn("root", blob, (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const t of ["tree_heads", "tree_nodes"]) await db.schema.dropTable(t).execute();
    },
  };
}
