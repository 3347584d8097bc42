/** Stored Merkle nodes of one issuer's tree (tables of migration 003), read as a {@link NodeReader}. */
import type { Kysely } from "kysely";
import type { NodeId, NodeReader } from "../../../verifier/src/formats/index.js";

/** The tables this module uses (typed here: the shared schema.ts belongs to the v1 log). */
export interface TreeTables {
  tree_nodes: { issuer_id: string; level: number; idx: number | string; hash: Uint8Array };
  tree_heads: { issuer_id: string; size: number | string; root: Uint8Array };
  entries: { issuer_id: string; seq: number | string; body: string };
}

/** PostgreSQL returns bigint as a string. */
export const toNumber = (v: number | string | bigint): number => Number(v);

/** Batches of key lookups per query: bounded statement size whatever the proof. */
const READ_CHUNK = 200;

/** Reads full-subtree hashes of `issuerId`'s tree; a missing node is an error (the tree is incomplete). */
export class TreeNodeStore implements NodeReader {
  constructor(private readonly db: Kysely<TreeTables>, private readonly issuerId: string) {}

  async readNodes(ids: readonly NodeId[]): Promise<Uint8Array[]> {
    const found = new Map<string, Uint8Array>();
    for (let i = 0; i < ids.length; i += READ_CHUNK) {
      const chunk = ids.slice(i, i + READ_CHUNK);
      const rows = await this.db.selectFrom("tree_nodes").select(["level", "idx", "hash"])
        .where("issuer_id", "=", this.issuerId)
        .where((eb) => eb.or(chunk.map((id) => eb.and([eb("level", "=", id.level), eb("idx", "=", id.index)]))))
        .execute();
      for (const r of rows) found.set(`${r.level}/${toNumber(r.idx)}`, new Uint8Array(r.hash));
    }
    return ids.map((id) => {
      const h = found.get(`${id.level}/${id.index}`);
      if (!h) throw new Error(`tree node ${id.level}/${id.index} of ${this.issuerId} is missing`);
      return h;
    });
  }

  /** Integrated size and root, or undefined before the first integration. */
  async head(): Promise<{ size: number; root: Uint8Array } | undefined> {
    const row = await this.db.selectFrom("tree_heads").select(["size", "root"]).where("issuer_id", "=", this.issuerId).executeTakeFirst();
    return row ? { size: toNumber(row.size), root: new Uint8Array(row.root) } : undefined;
  }
}
