/**
 * The fork guard's log v2 check: does the database's Merkle tree reproduce the newest archived
 * signed-note checkpoint (tree-archive.ts)? A tree smaller than the archived size, or a different
 * root at that size, means the database is not the one whose checkpoints were published.
 */
import { base64Encode, rootFromNodes } from "../../../verifier/src/formats/index.js";
import type { LogStore } from "../storage/log-store.js";
import type { TreeBaseline } from "./tree-archive.js";

/** How the database's tree disagrees with the archive. */
export interface TreeDisagreement {
  problem: string;
  base: TreeBaseline;
  /** the database's integrated tree size */
  databaseSize: number;
  /** the database's root at `base.size`, when its tree reaches that size */
  databaseRoot?: Uint8Array;
}

/** Undefined when the database's tree agrees with `base` (or `base` is the empty tree). */
export async function compareTree(
  store: LogStore,
  issuerId: string,
  base: TreeBaseline,
): Promise<TreeDisagreement | undefined> {
  if (base.size === 0) return undefined;
  const what = base.from === "checkpoint" ? "published checkpoint" : "acknowledged fork baseline";
  const nodes = store.treeNodes(issuerId);
  const head = await nodes.head();
  const databaseSize = head?.size ?? 0;
  if (!head || head.size < base.size)
    return {
      problem: `the database's Merkle tree holds ${databaseSize} leaves but a ${what} covers ${base.size} (root ${base.root})`,
      base,
      databaseSize,
    };
  let root: Uint8Array;
  try {
    root = head.size === base.size ? head.root : await rootFromNodes(base.size, nodes);
  } catch (e) {
    return {
      problem: `the database's Merkle tree cannot give its root at size ${base.size}, which a ${what} covers: ${(e as Error).message}`,
      base,
      databaseSize,
    };
  }
  const b64 = base64Encode(root);
  if (b64 !== base.root)
    return {
      problem: `the database's Merkle tree has root ${b64} at size ${base.size}, but the ${what} says ${base.root}`,
      base,
      databaseSize,
      databaseRoot: root,
    };
  return undefined;
}
