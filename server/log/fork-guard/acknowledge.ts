/**
 * An operator's decision to continue a frozen chain from the database's current head
 * (`npm run server -- --acknowledge-fork <issuer id>`): recorded in the archive, where it becomes
 * the new baseline (archive.ts `baseline`) — and, with the log v2 archive, in the tree archive
 * with the database's tree size and root (tree-archive.ts). See server/deploy/README.md
 * ("Backups and restores").
 */
import { base64Encode, emptyRoot } from "../../../verifier/src/formats/index.js";
import type { LogStore } from "../storage/log-store.js";
import type { ForkAcknowledgement, ForkArchive } from "./archive.js";
import type { TreeArchive, TreeForkAcknowledgement } from "./tree-archive.js";

/** Record the operator's decision to continue an issuer's chain (and tree) from the database's current head. */
export async function acknowledgeFork(
  store: LogStore,
  archive: ForkArchive,
  issuerId: string,
  reason: string,
  now: Date,
  treeArchive?: TreeArchive,
): Promise<ForkAcknowledgement & { tree?: TreeForkAcknowledgement }> {
  const head = await store.head(issuerId);
  const base = await archive.baseline(issuerId);
  const ack: ForkAcknowledgement = {
    kind: "fork-acknowledged",
    issuer: issuerId,
    time: now.toISOString(),
    abandoned: base ? { size: base.size, head: base.head } : null,
    resumedAt: { size: head.size, head: head.head },
    reason,
  };
  await archive.append(issuerId, ack);
  if (!treeArchive) return ack;
  const tree = await store.treeNodes(issuerId).head();
  const treeBase = await treeArchive.baseline(issuerId);
  const treeAck: TreeForkAcknowledgement = {
    kind: "fork-acknowledged",
    issuer: issuerId,
    time: ack.time,
    abandoned: treeBase ? { size: treeBase.size, root: treeBase.root } : null,
    resumedAt: { size: tree?.size ?? 0, root: base64Encode(tree?.root ?? (await emptyRoot())) },
    reason,
  };
  await treeArchive.append(issuerId, treeAck);
  return { ...ack, tree: treeAck };
}
