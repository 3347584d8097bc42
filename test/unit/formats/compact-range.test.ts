/**
 * The compact range (verifier/src/formats/compact-range.ts) against the RFC 9162 vectors (roots of
 * the RFC 6962 test leaves at every size they name) and against rootOfLeafHashes, with WebCrypto
 * and with a synchronous node:crypto hash.
 */
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  StreamingCompactRange,
  hashLeaf,
  rootOfLeafHashes,
  type Sha256Fn,
} from "../../../verifier/src/formats/index.js";

const ROOT = join(import.meta.dirname, "../../fixtures/rfc9162-proofs");
const b64 = (u: Uint8Array): string => Buffer.from(u).toString("base64");

/** The leaves of the RFC 6962 / transparency-dev reference tree the vectors are computed over. */
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(
  (h) => new Uint8Array(Buffer.from(h, "hex")),
);

const nodeSha256: Sha256Fn = (d) => new Uint8Array(createHash("sha256").update(d).digest());

/** size → base64 root, from every vector over the reference tree (valid cases only). */
function vectorRoots(): Map<number, string> {
  const roots = new Map<number, string>();
  for (const kind of ["inclusion", "consistency"]) {
    for (const f of readdirSync(join(ROOT, kind), { recursive: true, encoding: "utf8" })) {
      if (!f.endsWith(".json")) continue;
      const d = JSON.parse(readFileSync(join(ROOT, kind, f), "utf8"));
      // The happy-path cases are over the reference tree; the others use made-up hashes.
      if (d.wantErr || !f.endsWith("happy-path.json")) continue;
      if (kind === "inclusion") roots.set(d.treeSize, d.root);
      if (kind === "consistency") {
        roots.set(d.size1, d.root1);
        roots.set(d.size2, d.root2);
      }
    }
  }
  return roots;
}

async function rootsBySize(hash?: Sha256Fn, leaves: Uint8Array[] = []): Promise<string[]> {
  const range = new StreamingCompactRange(hash);
  const out = [b64(await range.root())];
  for (const l of leaves) {
    await range.append(l);
    out.push(b64(await range.root()));
  }
  return out;
}

describe("StreamingCompactRange", () => {
  it("gives the RFC 9162 vectors' roots of the reference tree at every size they name", async () => {
    const leafHashes = await Promise.all(LEAVES.map((l) => hashLeaf(l)));
    const want = vectorRoots();
    expect([...want.keys()].sort()).toEqual([1, 2, 3, 5, 6, 7, 8]);
    for (const hash of [undefined, nodeSha256]) {
      const got = await rootsBySize(hash, leafHashes);
      for (const [size, root] of want) expect(got[size], `size ${size}`).toBe(root);
    }
  });

  it("equals rootOfLeafHashes at every size up to 300, with WebCrypto and a synchronous hash", async () => {
    const leaves = Array.from({ length: 300 }, () => new Uint8Array(randomBytes(32)));
    const sync = await rootsBySize(nodeSha256, leaves);
    const web = await rootsBySize(undefined, leaves);
    for (let n = 0; n <= 300; n += n < 70 ? 1 : 23) {
      const want = b64(await rootOfLeafHashes(leaves.slice(0, n)));
      expect(sync[n], `size ${n}`).toBe(want);
      expect(web[n], `size ${n}`).toBe(want);
    }
    expect(sync[300]).toBe(b64(await rootOfLeafHashes(leaves)));
  });

  it("answers synchronously with a synchronous hash, keeps one node per set bit, and rejects a short hash", () => {
    const range = new StreamingCompactRange(nodeSha256);
    for (let i = 0; i < 1000; i++) expect(range.append(new Uint8Array(32).fill(i % 251))).toBeUndefined();
    expect(range.size).toBe(1000);
    expect(() => range.append(new Uint8Array(31))).toThrow(RangeError);
    expect(range.size).toBe(1000);
  });
});
