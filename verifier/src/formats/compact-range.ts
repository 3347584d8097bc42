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
    if (leafHash.length !== HASH_SIZE) throw new RangeError(`a leaf hash has ${HASH_SIZE} bytes`);
    let node: Uint8Array = leafHash;
    let s = this.#size;
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
