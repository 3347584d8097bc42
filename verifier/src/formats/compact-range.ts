/**
 * A streaming compact range over an RFC 9162 §2.1 Merkle tree: leaf hashes are appended one by one and the
 * root of the tree of the leaves so far can be read at any size, with O(log n) memory (one node
 * per set bit of the size — the perfect subtrees from the left edge). Browser-safe: SHA-256 is
 * WebCrypto's unless the host passes a (possibly synchronous) faster one. (proof-build.ts's
 * CompactRange also yields every node it completes, for a node store; this one only roots.)
 */
import type { Bytes } from "./bytes.js";
import { sha256 } from "./hash.js";
import { HASH_SIZE } from "./merkle.js";

/** SHA-256 of `data`: synchronous (e.g. node:crypto) or not (WebCrypto). */
export type Sha256Fn = (data: Uint8Array<ArrayBuffer>) => Uint8Array | Promise<Uint8Array>;

const webSha256: Sha256Fn = (data) => sha256(data);

/** 0x01 ‖ left ‖ right, the input of an interior node's hash. */
function children(left: Uint8Array, right: Uint8Array): Uint8Array<ArrayBuffer> {
  const buf = new Uint8Array(1 + 2 * HASH_SIZE);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 1 + HASH_SIZE);
  return buf;
}

/**
 * Appends leaf hashes and gives the root at the current size. {@link append} returns a promise
 * only when the hash function is asynchronous: then it must be awaited before the next call.
 * Sizes are counted with arithmetic, not bit operations, so they may pass 2^32.
 */
export class StreamingCompactRange {
  /** Roots of the perfect subtrees covering [0, size), largest (leftmost) first. */
  #nodes: Uint8Array[] = [];
  #size = 0;
  #hash: Sha256Fn;

  constructor(hash: Sha256Fn = webSha256) {
    this.#hash = hash;
  }

  /** Number of leaves appended. */
  get size(): number {
    return this.#size;
  }

  /** Appends one leaf hash (32 bytes: SHA-256(0x00 ‖ leaf data)). */
  append(leafHash: Uint8Array): void | Promise<void> {
    return this.appendEnding(leafHash, 0);
  }

  /**
   * Appends the next leaf as the last of a perfect subtree of 2^height leaves whose root
   * (`subtreeRoot`) was computed elsewhere — e.g. by a worker, see {@link BlockSubtrees}: the
   * subtree's other nodes, already on the range, are replaced by it, so only the merges above it are
   * hashed here. Height 0 is a plain {@link append}. The subtree must end at this leaf: the size's
   * low `height` bits are all ones (else RangeError).
   */
  appendEnding(subtreeRoot: Uint8Array, height: number): void | Promise<void> {
    if (subtreeRoot.length !== HASH_SIZE) throw new RangeError(`a tree node has ${HASH_SIZE} bytes`);
    let node: Uint8Array = subtreeRoot;
    let s = this.#size;
    for (let i = 0; i < height; i++) {
      if (s % 2 !== 1) throw new RangeError(`no subtree of height ${height} ends at leaf ${this.#size}`);
      s = (s - 1) / 2;
    }
    // The subtree's left part was appended leaf by leaf: those nodes are inside it now.
    this.#nodes.length -= height;
    // Every trailing 1 bit of the size is a subtree of the same size as the one being carried: merge.
    while (s % 2 === 1) {
      const h = this.#hash(children(this.#nodes.pop()!, node));
      if (h instanceof Promise) return this.#carry(h, s);
      node = h;
      s = (s - 1) / 2;
    }
    this.#nodes.push(node);
    this.#size++;
  }

  async #carry(pending: Promise<Uint8Array>, s: number): Promise<void> {
    // `s` counts in units of the carried node's size, the bit being merged still in it.
    let node = await pending;
    s = (s - 1) / 2;
    while (s % 2 === 1) {
      node = await this.#hash(children(this.#nodes.pop()!, node));
      s = (s - 1) / 2;
    }
    this.#nodes.push(node);
    this.#size++;
  }

  /** MTH of the leaves appended so far (SHA-256 of nothing for none). */
  async root(): Promise<Bytes> {
    const n = this.#nodes;
    if (n.length === 0) return new Uint8Array(await this.#hash(new Uint8Array(0))) as Bytes;
    let acc = n[n.length - 1]!;
    for (let i = n.length - 2; i >= 0; i--) acc = await this.#hash(children(n[i]!, acc));
    return new Uint8Array(acc) as Bytes;
  }
}

/**
 * The largest perfect subtree ending at each entry of a block of consecutive leaves, computed where
 * the leaf hashes are (a worker), so that the thread that keeps the whole tree only hashes across
 * block boundaries ({@link StreamingCompactRange.appendEnding}). Needs a synchronous SHA-256.
 * A leaf that does not follow the previous one (a gap, or a block's first) starts over.
 */
export class BlockSubtrees {
  /** Roots of the perfect subtrees ending at the last leaf added, and their heights, leftmost first. */
  #nodes: Uint8Array[] = [];
  #heights: number[] = [];
  #next = -1;
  readonly #hash: (data: Uint8Array<ArrayBuffer>) => Uint8Array;
  readonly #maxHeight: number;

  /** `maxHeight` bounds a subtree (e.g. to fit the bits a transport has for it). */
  constructor(hash: (data: Uint8Array<ArrayBuffer>) => Uint8Array, maxHeight = 15) {
    this.#hash = hash;
    this.#maxHeight = maxHeight;
  }

  /** Forgets the leaves so far (the next one starts a new run). */
  reset(): void {
    this.#nodes = [];
    this.#heights = [];
    this.#next = -1;
  }

  /** Leaf `index` with its hash: the root and height of the largest subtree of this run ending at it. */
  add(index: number, leafHash: Uint8Array): { root: Uint8Array; height: number } {
    if (index !== this.#next) this.reset();
    this.#next = index + 1;
    let node = leafHash;
    let h = 0;
    // A subtree of height h+1 ends here when index+1 is a multiple of 2^(h+1) and its left half,
    // of height h, is the last node of this run.
    while (
      h < this.#maxHeight &&
      this.#heights.length > 0 &&
      this.#heights[this.#heights.length - 1] === h &&
      (index + 1) % 2 ** (h + 1) === 0
    ) {
      this.#heights.pop();
      node = this.#hash(children(this.#nodes.pop()!, node));
      h++;
    }
    this.#nodes.push(node);
    this.#heights.push(h);
    return { root: node, height: h };
  }
}
