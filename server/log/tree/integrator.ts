/**
 * Integrates committed entries into the issuer's Merkle tree (Tessera's sequence → integrate step):
 * reads entries past the tree's size, appends their leaf hashes, stores every completed node and
 * advances tree_heads with a compare-and-swap, all in one transaction — so the stored tree always
 * equals the RFC 9162 tree over entries 0..size-1, and two integrators can never both advance it.
 */
import { CompactRange, entryLeafHash, rangeNodes, type NodeId } from "../../../verifier/src/formats/index.js";
import type { LogStore } from "../storage/log-store.js";
import { DEFAULT_INTEGRATE_BATCH } from "../tuning.js";

/** Raised when another integrator advanced the tree first (retry), or the entries have a gap. */
export class TreeIntegrationError extends Error {
  code = "ERR_TREE_INTEGRATION";
}

/** Integrates up to `maxEntries` new entries; returns the tree's size and root afterwards (size 0: root undefined). */
export async function integrate(
  store: LogStore,
  issuerId: string,
  maxEntries = DEFAULT_INTEGRATE_BATCH,
): Promise<{ size: number; root: Uint8Array | undefined; added: number }> {
  return store.withTreeTransaction(async (trx) => {
    const tree = trx.nodes(issuerId);
    const head = await tree.head();
    const size = head?.size ?? 0;
    const rows = await trx.entriesFrom(issuerId, size, maxEntries);
    if (rows.length === 0) return { size, root: head?.root, added: 0 };
    const range = CompactRange.resume(size, size > 0 ? await tree.readNodes(rangeNodes(0, size)) : []);
    const nodes: { id: NodeId; hash: Uint8Array }[] = [];
    for (const [i, r] of rows.entries()) {
      if (r.seq !== size + i)
        throw new TreeIntegrationError(`entry ${size + i} of ${issuerId} is missing (found ${r.seq})`);
      for (const n of await range.append(await entryLeafHash(JSON.parse(r.body) as Record<string, unknown>)))
        nodes.push(n);
    }
    await trx.insertNodes(issuerId, nodes);
    const root = await range.root();
    if (!(await trx.advance(issuerId, head ? size : undefined, range.size, root))) {
      throw new TreeIntegrationError(`tree of ${issuerId} moved during integration`);
    }
    return { size: range.size, root, added: rows.length };
  });
}
