/**
 * Proof generation (RFC 9162 §2.1.3.1 PATH and §2.1.4.1 PROOF) from stored full-subtree nodes, so a
 * server answers in O(log n) node reads. A plan is pure; {@link buildProof} does one batched read.
 */
import type { Bytes } from "./bytes.js";
import { VerificationError } from "./errors.js";
import { hashChildren, splitPoint } from "./merkle.js";

/** A full, aligned subtree: leaves [index·2^level, (index+1)·2^level). Level 0 nodes are leaf hashes. */
export interface NodeId {
  level: number;
  index: number;
}

/** Reads stored node hashes; must return them in the order asked, and throw if one is missing. */
export interface NodeReader {
  readNodes(ids: readonly NodeId[]): Promise<Uint8Array[]>;
}

/** Each proof hash is MTH of a leaf range, i.e. a right fold of these full subtrees (largest first). */
export type ProofPlan = NodeId[][];

/** The full subtrees covering [start, end), largest first: MTH(range) = fold-right of their hashes. */
export function rangeNodes(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let a = start;
  while (a < end) {
    let size = 1;
    while (a % (size * 2) === 0 && a + size * 2 <= end) size *= 2;
    out.push({ level: Math.log2(size), index: a / size });
    a += size;
  }
  return out;
}

function checkSizes(a: number, b: number, what: string): void {
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || a < 0 || b < 0)
    throw new VerificationError("ERR_PROOF", `${what}: sizes must be non-negative safe integers`);
}

/** Plan of the inclusion proof of leaf `index` in the tree of `size`. */
export function inclusionPlan(index: number, size: number): ProofPlan {
  checkSizes(index, size, "inclusion");
  if (index >= size)
    throw new VerificationError("ERR_PROOF", `index ${index} is not below tree size ${size}`, { field: "index" });
  const path = (m: number, a: number, b: number): ProofPlan => {
    const n = b - a;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m - a < k ? [...path(m, a, a + k), rangeNodes(a + k, b)] : [...path(m, a + k, b), rangeNodes(a, a + k)];
  };
  return path(index, 0, size);
}

/** Plan of the consistency proof from size1 to size2 (0 < size1 ≤ size2; equal sizes give an empty proof). */
export function consistencyPlan(size1: number, size2: number): ProofPlan {
  checkSizes(size1, size2, "consistency");
  if (size1 === 0 || size1 > size2)
    throw new VerificationError("ERR_PROOF", `no consistency proof from ${size1} to ${size2}`, { field: "size1" });
  const sub = (m: number, a: number, b: number, whole: boolean): ProofPlan => {
    const n = b - a;
    if (m === n) return whole ? [] : [rangeNodes(a, b)];
    const k = splitPoint(n);
    return m <= k
      ? [...sub(m, a, a + k, whole), rangeNodes(a + k, b)]
      : [...sub(m - k, a + k, b, false), rangeNodes(a, a + k)];
  };
  return sub(size1, 0, size2, true);
}

/** Executes a plan with one batched read and returns the proof hashes. */
export async function buildProof(plan: ProofPlan, reader: NodeReader): Promise<Bytes[]> {
  const ids = plan.flat();
  const hashes = ids.length ? await reader.readNodes(ids) : [];
  if (hashes.length !== ids.length)
    throw new VerificationError("ERR_PROOF", `node reader returned ${hashes.length} of ${ids.length} nodes`);
  let at = 0;
  const out: Bytes[] = [];
  for (const group of plan) {
    const hs = hashes.slice(at, at + group.length);
    at += group.length;
    let acc = hs[hs.length - 1]!;
    for (let i = hs.length - 2; i >= 0; i--) acc = await hashChildren(hs[i]!, acc);
    out.push(new Uint8Array(acc) as Bytes);
  }
  return out;
}

/** Root of the tree of `size` from stored nodes (size > 0). */
export async function rootFromNodes(size: number, reader: NodeReader): Promise<Bytes> {
  const [root] = await buildProof([rangeNodes(0, size)], reader);
  if (!root) throw new VerificationError("ERR_PROOF", "empty tree has no stored root");
  return root;
}

/**
 * Keeps the right edge of a growing tree. `append` returns every full node the new leaf completes (the
 * leaf itself first), which is exactly what a node store must persist for {@link NodeReader}.
 */
export class CompactRange {
  #edge: { id: NodeId; hash: Uint8Array }[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** The right edge of a tree of `size`: the nodes {@link rangeNodes}(0, size) names, in that order. */
  static resume(size: number, edgeHashes: readonly Uint8Array[]): CompactRange {
    const ids = rangeNodes(0, size);
    if (ids.length !== edgeHashes.length)
      throw new VerificationError(
        "ERR_PROOF",
        `a tree of ${size} has ${ids.length} edge nodes, got ${edgeHashes.length}`,
      );
    const r = new CompactRange();
    r.#edge = ids.map((id, i) => ({ id, hash: edgeHashes[i]! }));
    r.#size = size;
    return r;
  }

  async append(leafHash: Uint8Array): Promise<{ id: NodeId; hash: Bytes }[]> {
    let node = { id: { level: 0, index: this.#size }, hash: new Uint8Array(leafHash) as Bytes };
    const made = [node];
    while (this.#edge.length > 0 && this.#edge[this.#edge.length - 1]!.id.level === node.id.level) {
      const left = this.#edge.pop()!;
      node = {
        id: { level: node.id.level + 1, index: left.id.index / 2 },
        hash: await hashChildren(left.hash, node.hash),
      };
      made.push(node);
    }
    this.#edge.push(node);
    this.#size++;
    return made;
  }

  /** Current root (throws on the empty tree; use emptyRoot()). */
  async root(): Promise<Bytes> {
    if (this.#edge.length === 0) throw new VerificationError("ERR_PROOF", "empty tree");
    let acc = this.#edge[this.#edge.length - 1]!.hash;
    for (let i = this.#edge.length - 2; i >= 0; i--) acc = await hashChildren(this.#edge[i]!.hash, acc);
    return new Uint8Array(acc) as Bytes;
  }
}
