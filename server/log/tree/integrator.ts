/**
 * Integrates committed entries into the issuer's Merkle tree (Tessera's sequence → integrate step):
 * reads entries past the tree's size, appends their leaf hashes, stores every completed node and
 * advances tree_heads with a compare-and-swap, all in one transaction — so the stored tree always
 * equals the RFC 9162 tree over entries 0..size-1, and two integrators can never both advance it.
 */
import type { Kysely } from "kysely";
import { CompactRange, entryLeafHash, rangeNodes } from "../../../verifier/src/formats/index.js";
import { TreeNodeStore, toNumber, type TreeTables } from "./node-store.js";

/** Most entries integrated per transaction. */
export const DEFAULT_INTEGRATE_BATCH = 4096;
const INSERT_CHUNK = 500;

/** Raised when another integrator advanced the tree first (retry), or the entries have a gap. */
export class TreeIntegrationError extends Error {
  code = "ERR_TREE_INTEGRATION";
}

/** Integrates up to `maxEntries` new entries; returns the tree's size and root afterwards (size 0: root undefined). */
export async function integrate(db: Kysely<TreeTables>, issuerId: string, maxEntries = DEFAULT_INTEGRATE_BATCH): Promise<{ size: number; root: Uint8Array | undefined; added: number }> {
  return db.transaction().execute(async (trx) => {
    const store = new TreeNodeStore(trx, issuerId);
    const head = await store.head();
    const size = head?.size ?? 0;
    const rows = await trx.selectFrom("entries").select(["seq", "body"])
      .where("issuer_id", "=", issuerId).where("seq", ">=", size).orderBy("seq").limit(maxEntries).execute();
    if (rows.length === 0) return { size, root: head?.root, added: 0 };
    const range = CompactRange.resume(size, size > 0 ? await store.readNodes(rangeNodes(0, size)) : []);
    const nodes: { issuer_id: string; level: number; idx: number; hash: Uint8Array }[] = [];
    for (const [i, r] of rows.entries()) {
      if (toNumber(r.seq) !== size + i) throw new TreeIntegrationError(`entry ${size + i} of ${issuerId} is missing (found ${r.seq})`);
      const made = await range.append(await entryLeafHash(JSON.parse(r.body) as Record<string, unknown>));
      for (const n of made) nodes.push({ issuer_id: issuerId, level: n.id.level, idx: n.id.index, hash: n.hash });
    }
    for (let i = 0; i < nodes.length; i += INSERT_CHUNK) await trx.insertInto("tree_nodes").values(nodes.slice(i, i + INSERT_CHUNK)).execute();
    const root = await range.root();
    if (head) {
      const res = await trx.updateTable("tree_heads").set({ size: range.size, root }).where("issuer_id", "=", issuerId).where("size", "=", size).executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new TreeIntegrationError(`tree of ${issuerId} moved during integration`);
    } else {
      await trx.insertInto("tree_heads").values({ issuer_id: issuerId, size: range.size, root }).execute();
    }
    return { size: range.size, root, added: rows.length };
  });
}
