/**
 * Start-up catch-up of trees that lag their chains (databases from before log v2): runs before
 * appends are accepted, in chunks of one write transaction each, logging progress. Afterwards every
 * batch commit keeps tree size == chain size.
 */
import type { LogStore } from "../storage/log-store.js";
import { DEFAULT_INTEGRATE_BATCH } from "../tuning.js";

/** Log progress at most this often per issuer. */
const PROGRESS_EVERY_MS = 2000;

export async function catchUpTrees(
  store: LogStore,
  logger?: { info(o: object, msg: string): void },
  chunk = DEFAULT_INTEGRATE_BATCH,
): Promise<number> {
  let total = 0;
  for (const lag of await store.treeLag()) {
    if (lag.treeSize >= lag.chainSize) continue;
    logger?.info(
      { issuer: lag.issuerId, tree: lag.treeSize, chain: lag.chainSize },
      "building the Merkle tree of a log from before v2",
    );
    let size = lag.treeSize;
    let lastLog = Date.now();
    while (size < lag.chainSize) {
      const next = await store.catchUpTree(lag.issuerId, chunk);
      if (next <= size) break; // another process finished it
      total += next - size;
      size = next;
      if (Date.now() - lastLog >= PROGRESS_EVERY_MS) {
        logger?.info({ issuer: lag.issuerId, tree: size, chain: lag.chainSize }, "Merkle tree catch-up progress");
        lastLog = Date.now();
      }
    }
    logger?.info({ issuer: lag.issuerId, tree: size }, "Merkle tree caught up");
  }
  return total;
}
