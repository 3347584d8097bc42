/** Inclusion and consistency proof verification, RFC 9162 §2.1.3.2 and §2.1.4.2, step by step. */
import type { Bytes } from "./bytes.js";
import { VerificationError } from "./errors.js";
import { bytesEqual } from "./bytes.js";
import { HASH_SIZE, hashChildren } from "./merkle.js";

const isOdd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

function checkSize(n: number, field: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new VerificationError("ERR_PROOF", `${field} is not a non-negative safe integer`, { field });
}
function checkHashes(hashes: readonly Uint8Array[], field: string): void {
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE)
      throw new VerificationError("ERR_PROOF", `${field}[${i}] is not ${HASH_SIZE} bytes`, { field });
  });
}

/** The root an inclusion proof yields for (index, size, leafHash); throws ProofError if the proof's shape is wrong. */
export async function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<Bytes> {
  checkSize(index, "index");
  checkSize(size, "size");
  checkHashes([leafHash], "leafHash");
  checkHashes(proof, "proof");
  if (index >= size)
    throw new VerificationError("ERR_PROOF", `index ${index} is not below tree size ${size}`, { field: "index" });
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new VerificationError("ERR_PROOF", "inclusion proof is too long", { field: "proof" });
    if (isOdd(fn) || fn === sn) {
      r = await hashChildren(p, r);
      if (!isOdd(fn))
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else {
      r = await hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new VerificationError("ERR_PROOF", "inclusion proof is too short", { field: "proof" });
  return r as Bytes;
}

/** Verifies that `leafHash` is leaf `index` of the tree of `size` with `root`. Throws ProofError otherwise. */
export async function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): Promise<void> {
  checkHashes([root], "root");
  const got = await rootFromInclusionProof(index, size, leafHash, proof);
  if (!bytesEqual(got, root))
    throw new VerificationError("ERR_PROOF", "inclusion proof does not lead to the root", { field: "root" });
}

/**
 * Verifies that the tree (size2, root2) extends (size1, root1). Equal sizes need an empty proof and equal
 * roots. size1 = 0 is rejected: every tree extends the empty one, so such a "proof" proves nothing.
 */
export async function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): Promise<void> {
  checkSize(size1, "size1");
  checkSize(size2, "size2");
  if (size1 > size2)
    throw new VerificationError("ERR_PROOF", `size1 ${size1} is greater than size2 ${size2}`, { field: "size1" });
  if (size1 === 0)
    throw new VerificationError("ERR_PROOF", "consistency from the empty tree proves nothing", { field: "size1" });
  if (size1 === size2) {
    if (proof.length !== 0)
      throw new VerificationError("ERR_PROOF", "equal sizes need an empty proof", { field: "proof" });
    if (!bytesEqual(root1, root2))
      throw new VerificationError("ERR_PROOF", "equal sizes but different roots", { field: "root2" });
    return;
  }
  // Lengths after the equal-size case: the RFC vectors accept any identical roots there.
  checkHashes([root1], "root1");
  checkHashes([root2], "root2");
  checkHashes(proof, "proof");
  if (proof.length === 0) throw new VerificationError("ERR_PROOF", "consistency proof is empty", { field: "proof" });
  // §2.1.4.2 step 2: a power-of-two first tree is itself a node of the second.
  let path = proof;
  let pow2 = 1;
  while (pow2 < size1) pow2 *= 2;
  if (pow2 === size1) path = [root1, ...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new VerificationError("ERR_PROOF", "consistency proof is too long", { field: "proof" });
    if (isOdd(fn) || fn === sn) {
      fr = await hashChildren(c, fr);
      sr = await hashChildren(c, sr);
      if (!isOdd(fn))
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
    } else {
      sr = await hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new VerificationError("ERR_PROOF", "consistency proof is too short", { field: "proof" });
  if (!bytesEqual(fr, root1))
    throw new VerificationError("ERR_PROOF", "consistency proof does not lead to root1", { field: "root1" });
  if (!bytesEqual(sr, root2))
    throw new VerificationError("ERR_PROOF", "consistency proof does not lead to root2", { field: "root2" });
}
