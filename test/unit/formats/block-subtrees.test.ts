/**
 * Worker-side subtrees (BlockSubtrees) fed to the main range with appendEnding give, at every size,
 * exactly the root a leaf-by-leaf StreamingCompactRange gives — for any split of the leaves into
 * blocks (a worker's run starts over at each block), any start of the first block and any height cap.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BlockSubtrees, StreamingCompactRange, rootOfLeafHashes } from "../../../verifier/src/formats/index.js";

const sha = (d: Uint8Array) => new Uint8Array(createHash("sha256").update(d).digest());
const leaf = (i: number) => sha(new TextEncoder().encode(`leaf ${i}`));
const hex = (u: Uint8Array) => Buffer.from(u).toString("hex");

async function rootsBoth(n: number, cuts: number[], maxHeight: number): Promise<[string[], string[], number]> {
  const plain = new StreamingCompactRange(sha);
  const fed = new StreamingCompactRange(sha);
  const worker = new BlockSubtrees(sha, maxHeight);
  const cutAt = new Set(cuts.map((c) => c % Math.max(n, 1)));
  const a: string[] = [];
  const b: string[] = [];
  let hashedAbove = 0;
  for (let i = 0; i < n; i++) {
    if (cutAt.has(i)) worker.reset();
    const l = leaf(i);
    plain.append(l);
    const { root, height } = worker.add(i, l);
    hashedAbove += height === 0 ? 1 : 0;
    fed.appendEnding(root, height);
    a.push(hex(await plain.root()));
    b.push(hex(await fed.root()));
    expect(fed.size).toBe(i + 1);
  }
  return [a, b, hashedAbove];
}

describe("BlockSubtrees + appendEnding", () => {
  it("equal the leaf-by-leaf roots at every size, for any block split and height cap", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 300 }),
        fc.array(fc.integer({ min: 0, max: 299 }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 15 }),
        async (n, cuts, maxHeight) => {
          const [a, b] = await rootsBoth(n, cuts, maxHeight);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("one run of 1,000 leaves: the root is rootOfLeafHashes', and most leaves arrive inside a subtree", async () => {
    const [, b, plainLeaves] = await rootsBoth(1000, [], 15);
    const leaves = Array.from({ length: 1000 }, (_, i) => leaf(i));
    expect(b[999]).toBe(hex(await rootOfLeafHashes(leaves)));
    expect(plainLeaves).toBe(500); // the even-indexed leaves; every odd one closes a subtree
  });

  it("a gap in the indexes starts a new run; a subtree that does not end at the next leaf is refused", () => {
    const w = new BlockSubtrees(sha);
    w.add(0, leaf(0));
    expect(w.add(1, leaf(1)).height).toBe(1);
    expect(w.add(5, leaf(5)).height).toBe(0); // 4 was not seen
    const r = new StreamingCompactRange(sha);
    r.append(leaf(0));
    expect(() => r.appendEnding(leaf(1), 2)).toThrow(RangeError);
  });
});
