/** RFC 9162 §2.1 Merkle tree hashing over WebCrypto SHA-256. */
import type { Bytes } from "./bytes.js";
import { sha256 } from "./hash.js";

/** Size of every hash in the tree. */
export const HASH_SIZE = 32;

/** Leaf hash: SHA-256(0x00 ‖ data). */
export function hashLeaf(data: Uint8Array): Promise<Bytes> {
  const buf = new Uint8Array(1 + data.length);
  buf.set(data, 1);
  return sha256(buf as Bytes);
}

/** Interior node hash: SHA-256(0x01 ‖ left ‖ right). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Promise<Bytes> {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf as Bytes);
}

/** MTH({}) = SHA-256 of the empty string. */
export function emptyRoot(): Promise<Bytes> {
  return sha256(new Uint8Array(0) as Bytes);
}

/** Largest power of two strictly less than n (n ≥ 2). Arithmetic, not bit ops: sizes may exceed 2^32. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over a list of leaf hashes (RFC 9162 §2.1.1), computed with O(log n) memory by a compact range. */
export async function rootOfLeafHashes(leafHashes: readonly Uint8Array[]): Promise<Bytes> {
  if (leafHashes.length === 0) return emptyRoot();
  const stack: { size: number; hash: Uint8Array }[] = [];
  for (const h of leafHashes) {
    let node = { size: 1, hash: h };
    while (stack.length > 0 && stack[stack.length - 1]!.size === node.size) {
      const left = stack.pop()!;
      node = { size: left.size * 2, hash: await hashChildren(left.hash, node.hash) };
    }
    stack.push(node);
  }
  let acc = stack.pop()!.hash;
  while (stack.length > 0) acc = await hashChildren(stack.pop()!.hash, acc);
  return acc as Bytes;
}
