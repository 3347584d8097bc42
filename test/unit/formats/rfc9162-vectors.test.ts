/** The 196 RFC 9162 proof vectors (transparency-dev/merkle) through the project's Merkle code. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyConsistency, verifyInclusion } from "../../../verifier/src/formats/index.js";

const ROOT = join(import.meta.dirname, "../../fixtures/rfc9162-proofs");
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));

function cases(kind: string): { name: string; data: Record<string, unknown> }[] {
  const out: { name: string; data: Record<string, unknown> }[] = [];
  for (const f of readdirSync(join(ROOT, kind), { recursive: true, encoding: "utf8" })) {
    if (f.endsWith(".json")) out.push({ name: f, data: JSON.parse(readFileSync(join(ROOT, kind, f), "utf8")) });
  }
  return out;
}

const inclusion = cases("inclusion");
const consistency = cases("consistency");

describe("RFC 9162 vectors", () => {
  it("has all 196 cases", () => {
    expect(inclusion.length + consistency.length).toBe(196);
  });

  it.each(inclusion.map((c) => [c.name, c.data] as const))("inclusion %s", async (_name, d) => {
    const run = verifyInclusion(
      d.leafIdx as number,
      d.treeSize as number,
      b64(d.leafHash as string),
      ((d.proof as string[] | null) ?? []).map(b64),
      b64(d.root as string),
    );
    if (d.wantErr) await expect(run).rejects.toMatchObject({ code: "ERR_PROOF" });
    else await expect(run).resolves.toBeUndefined();
  });

  it.each(consistency.map((c) => [c.name, c.data] as const))("consistency %s", async (_name, d) => {
    const run = verifyConsistency(
      d.size1 as number,
      d.size2 as number,
      b64(d.root1 as string),
      b64(d.root2 as string),
      ((d.proof as string[] | null) ?? []).map(b64),
    );
    if (d.wantErr) await expect(run).rejects.toMatchObject({ code: "ERR_PROOF" });
    else await expect(run).resolves.toBeUndefined();
  });
});
