/**
 * The right edge (compact range) of an issuer's growing Merkle tree, hashed synchronously with
 * node:crypto so the batch commit can extend the tree without yielding per hash. Leaf data is the
 * formats' `entryLeafData` (FORMATS.md "Merkle tree leaves") — one definition of the bytes; the
 * hashes are RFC 9162 §2.1 (leaf SHA-256(0x00 ‖ data), node SHA-256(0x01 ‖ left ‖ right)).
 */
import { createHash } from "node:crypto";
import { entryLeafData, rangeNodes, type NodeId } from "../../../verifier/src/formats/index.js";

export interface TreeNode {
  id: NodeId;
  hash: Uint8Array;
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

/** RFC 9162 leaf hash of a stored entry (its JSON with hash and sig). */
export function entryLeafHashSync(entry: object): Uint8Array {
  const data = entryLeafData(entry as Record<string, unknown>);
  return new Uint8Array(createHash("sha256").update(LEAF).update(data).digest());
}

export function hashChildrenSync(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(NODE).update(left).update(right).digest());
}

export class RightEdge {
  private constructor(
    private edge: TreeNode[],
    private n: number,
  ) {}

  get size(): number {
    return this.n;
  }

  static empty(): RightEdge {
    return new RightEdge([], 0);
  }

  /** The edge of a tree of `size` from the hashes of `rangeNodes(0, size)`, in that order. */
  static resume(size: number, hashes: readonly Uint8Array[]): RightEdge {
    const ids = rangeNodes(0, size);
    if (ids.length !== hashes.length)
      throw new Error(`a tree of ${size} has ${ids.length} edge nodes, got ${hashes.length}`);
    return new RightEdge(
      ids.map((id, i) => ({ id, hash: hashes[i]! })),
      size,
    );
  }

  /** The node ids `resume` needs for a tree of `size`. */
  static nodeIds(size: number): NodeId[] {
    return rangeNodes(0, size);
  }

  clone(): RightEdge {
    return new RightEdge([...this.edge], this.n);
  }

  /** Appends a leaf; returns every full node it completes (the leaf first) — what the node table stores. */
  append(leafHash: Uint8Array): TreeNode[] {
    let node: TreeNode = { id: { level: 0, index: this.n }, hash: leafHash };
    const made = [node];
    while (this.edge.length > 0 && this.edge[this.edge.length - 1]!.id.level === node.id.level) {
      const left = this.edge.pop()!;
      node = {
        id: { level: node.id.level + 1, index: left.id.index / 2 },
        hash: hashChildrenSync(left.hash, node.hash),
      };
      made.push(node);
    }
    this.edge.push(node);
    this.n++;
    return made;
  }

  /** The root (SHA-256 of the empty string for the empty tree). */
  root(): Uint8Array {
    if (this.edge.length === 0) return new Uint8Array(createHash("sha256").digest());
    let acc = this.edge[this.edge.length - 1]!.hash;
    for (let i = this.edge.length - 2; i >= 0; i--) acc = hashChildrenSync(this.edge[i]!.hash, acc);
    return acc;
  }
}
