/** Proof generation from stored nodes agrees with the RFC 9162 definitions and with verification. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CompactRange,
  buildProof,
  consistencyPlan,
  hashChildren,
  hashLeaf,
  inclusionPlan,
  rootFromNodes,
  rootOfLeafHashes,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
  type NodeReader,
} from "../../../verifier/src/formats/index.js";

/** MTH straight from RFC 9162 §2.1.1, recursively: the reference the fast code is checked against. */
async function mth(leaves: Uint8Array[]): Promise<Uint8Array> {
  if (leaves.length === 1) return leaves[0]!;
  const k = splitPoint(leaves.length);
  return hashChildren(await mth(leaves.slice(0, k)), await mth(leaves.slice(k)));
}

/** A node store filled only through CompactRange.append, as the server's batch commits fill its table. */
async function grow(
  n: number,
): Promise<{ leaves: Uint8Array[]; store: Map<string, Uint8Array>; reader: NodeReader; range: CompactRange }> {
  const leaves: Uint8Array[] = [];
  const store = new Map<string, Uint8Array>();
  const range = new CompactRange();
  for (let i = 0; i < n; i++) {
    const h = await hashLeaf(new TextEncoder().encode(`entry ${i}`));
    leaves.push(h);
    for (const node of await range.append(h)) store.set(`${node.id.level}/${node.id.index}`, node.hash);
  }
  const reader: NodeReader = {
    async readNodes(ids: readonly NodeId[]) {
      return ids.map((id) => {
        const h = store.get(`${id.level}/${id.index}`);
        if (!h) throw new Error(`missing node ${id.level}/${id.index}`);
        return h;
      });
    },
  };
  return { leaves, store, reader, range };
}

describe("proof generation", () => {
  it("roots agree: CompactRange, stored nodes, compact fold and the recursive definition (sizes 1..70)", async () => {
    const { leaves, reader } = await grow(70);
    for (let n = 1; n <= 70; n++) {
      const want = await mth(leaves.slice(0, n));
      const r = new CompactRange();
      for (const l of leaves.slice(0, n)) await r.append(l);
      expect(await r.root()).toEqual(want);
      expect(await rootFromNodes(n, reader)).toEqual(want);
      expect(await rootOfLeafHashes(leaves.slice(0, n))).toEqual(want);
    }
  });

  it("every inclusion and consistency proof up to size 40 verifies; stores only full nodes (2n-1 at most)", async () => {
    const { leaves, reader, store } = await grow(40);
    expect(store.size).toBeLessThanOrEqual(2 * 40 - 1);
    for (let n = 1; n <= 40; n++) {
      const root = await mth(leaves.slice(0, n));
      for (let i = 0; i < n; i++) {
        const proof = await buildProof(inclusionPlan(i, n), reader);
        await verifyInclusion(i, n, leaves[i]!, proof, root);
      }
      for (let m = 1; m <= n; m++) {
        const proof = await buildProof(consistencyPlan(m, n), reader);
        await verifyConsistency(m, n, await mth(leaves.slice(0, m)), root, proof);
      }
    }
  });

  it("proofs need O(log n) node reads", () => {
    const n = 1_000_003;
    expect(inclusionPlan(n - 1, n).flat().length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)));
    expect(consistencyPlan(777_777, n).flat().length).toBeLessThanOrEqual(3 * Math.ceil(Math.log2(n)));
    // Indices beyond 2^32: arithmetic must not wrap like JS bit operators.
    const big = 2 ** 40 + 5;
    expect(inclusionPlan(big - 1, big)).toEqual([[{ level: 2, index: 2 ** 38 }], [{ level: 40, index: 0 }]]);
  });

  it("attacker: a proof for one leaf, size or root is refused for any other", async () => {
    const { leaves, reader } = await grow(21);
    const root = await mth(leaves);
    const proof = await buildProof(inclusionPlan(9, 21), reader);
    await expect(verifyInclusion(10, 21, leaves[9]!, proof, root)).rejects.toMatchObject({ code: "ERR_PROOF" });
    // (9, 22) has the same proof shape as (9, 21); what binds size to root is the signed checkpoint.
    await expect(verifyInclusion(9, 40, leaves[9]!, proof, root)).rejects.toMatchObject({ code: "ERR_PROOF" });
    await expect(verifyInclusion(9, 21, leaves[10]!, proof, root)).rejects.toMatchObject({ code: "ERR_PROOF" });
    await expect(verifyInclusion(9, 21, leaves[9]!, proof.slice(1), root)).rejects.toMatchObject({ code: "ERR_PROOF" });
    await expect(verifyInclusion(9, 21, leaves[9]!, [...proof, proof[0]!], root)).rejects.toMatchObject({
      code: "ERR_PROOF",
    });
    await expect(verifyInclusion(9, 21, leaves[9]!, [...proof].reverse(), root)).rejects.toMatchObject({
      code: "ERR_PROOF",
    });
    await expect(verifyInclusion(9, 2 ** 64, leaves[9]!, proof, root)).rejects.toMatchObject({ code: "ERR_PROOF" });
    await expect(verifyInclusion(-1, 21, leaves[9]!, proof, root)).rejects.toMatchObject({ code: "ERR_PROOF" });
    const c = await buildProof(consistencyPlan(13, 21), reader);
    const root13 = await mth(leaves.slice(0, 13));
    await verifyConsistency(13, 21, root13, root, c);
    await expect(verifyConsistency(12, 21, root13, root, c)).rejects.toMatchObject({ code: "ERR_PROOF" });
    await expect(verifyConsistency(13, 33, root13, root, c)).rejects.toMatchObject({ code: "ERR_PROOF" });
    await expect(verifyConsistency(13, 21, root, root13, c)).rejects.toMatchObject({ code: "ERR_PROOF" });
    await expect(verifyConsistency(21, 13, root, root13, c)).rejects.toMatchObject({ code: "ERR_PROOF" });
  });

  it("property: any flipped bit in any proof hash is refused", async () => {
    const { leaves, reader } = await grow(300);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 300 }),
        fc.nat(),
        fc.nat(),
        fc.nat({ max: 255 }),
        async (n, i0, which, bit) => {
          const i = i0 % n;
          const root = await mth(leaves.slice(0, n));
          const proof = await buildProof(inclusionPlan(i, n), reader);
          await verifyInclusion(i, n, leaves[i]!, proof, root);
          const bad = proof.map((p) => new Uint8Array(p));
          bad[which % bad.length]![bit >> 3]! ^= 1 << (bit & 7);
          await expect(verifyInclusion(i, n, leaves[i]!, bad, root)).rejects.toMatchObject({ code: "ERR_PROOF" });
          const m = 1 + (i0 % (n - 1));
          const cons = await buildProof(consistencyPlan(m, n), reader);
          const root1 = await mth(leaves.slice(0, m));
          await verifyConsistency(m, n, root1, root, cons);
          if (cons.length > 0) {
            const badC = cons.map((p) => new Uint8Array(p));
            badC[which % badC.length]![bit >> 3]! ^= 1 << (bit & 7);
            await expect(verifyConsistency(m, n, root1, root, badC)).rejects.toMatchObject({ code: "ERR_PROOF" });
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a node reader that returns too few nodes is an error, not a short proof", async () => {
    const short: NodeReader = { readNodes: async (ids) => ids.slice(1).map(() => new Uint8Array(32)) };
    await expect(buildProof(inclusionPlan(3, 10), short)).rejects.toMatchObject({ code: "ERR_PROOF" });
  });
});
