/**
 * Inclusion and consistency proofs of an issuer's tree (RFC 9162 §2.1.3, §2.1.4), built from the
 * stored full-subtree hashes: O(log n) node reads, no KMS. What the proof routes, receipts v2 and
 * checkpoint hooks (witnesses) use.
 */
import { buildProof, consistencyPlan, inclusionPlan } from "../../../verifier/src/formats/index.js";
import type { LogStore } from "../storage/log-store.js";

/** A proof was asked for with impossible sizes (ERR_PROOF_RANGE) or beyond the integrated tree (ERR_BEYOND_TREE). */
export class ProofRangeError extends Error {
  constructor(
    message: string,
    readonly code: "ERR_PROOF_RANGE" | "ERR_BEYOND_TREE" = "ERR_PROOF_RANGE",
  ) {
    super(message);
  }
}

export class TreeProofs {
  constructor(private readonly store: LogStore) {}

  private async treeSize(issuerId: string): Promise<number> {
    return (await this.store.treeNodes(issuerId).head())?.size ?? 0;
  }

  /** Hashes proving leaf `index` is in the tree of `size` (empty when size is 1). */
  async inclusionProof(issuerId: string, index: number, size: number): Promise<Uint8Array[]> {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size)
      throw new ProofRangeError(`index must be in [0, size): index ${index}, size ${size}`);
    const have = await this.treeSize(issuerId);
    if (size > have)
      throw new ProofRangeError(`the tree of ${issuerId} has ${have} leaves, not ${size}`, "ERR_BEYOND_TREE");
    return buildProof(inclusionPlan(index, size), this.store.treeNodes(issuerId));
  }

  /** Hashes proving the tree of `to` extends the tree of `from` (empty when from is 0 or from = to). */
  async consistencyProof(issuerId: string, from: number, to: number): Promise<Uint8Array[]> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to)
      throw new ProofRangeError(`need 0 ≤ from ≤ to: from ${from}, to ${to}`);
    const have = await this.treeSize(issuerId);
    if (to > have)
      throw new ProofRangeError(`the tree of ${issuerId} has ${have} leaves, not ${to}`, "ERR_BEYOND_TREE");
    if (from === 0 || from === to) return [];
    return buildProof(consistencyPlan(from, to), this.store.treeNodes(issuerId));
  }
}
