/** c2sp.org/tlog-proof@v1: the spec's example layout, a full round trip with a real proof and note, tampering. */
import { generateKeyPairSync, sign as nodeSign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CompactRange,
  buildProof,
  formatCheckpoint,
  formatTlogProof,
  hashLeaf,
  inclusionPlan,
  openNote,
  parseCheckpoint,
  parseTlogProof,
  parseVerifierKey,
  formatVerifierKey,
  signNote,
  verifyInclusion,
  type NodeReader,
} from "../../../verifier/src/formats/index.js";

const SPEC_EXAMPLE = `c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

— example.com/fancylog hI2DJw==
`;

describe("tlog-proof", () => {
  it("parses the spec example's layout (signatures there are elided; ours is a stand-in)", () => {
    const p = parseTlogProof(SPEC_EXAMPLE);
    expect(p.index).toBe(73894);
    expect(p.proof).toHaveLength(5);
    expect(p.checkpoint.startsWith("example.com/fancylog\n109482\n")).toBe(true);
    expect(formatTlogProof(p)).toBe(SPEC_EXAMPLE);
  });

  it("round-trips a real proof with a signed checkpoint, and the receiver can verify it end to end", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const pub = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12));
    const leaves = await Promise.all(Array.from({ length: 11 }, (_, i) => hashLeaf(new TextEncoder().encode(`e${i}`))));
    const store = new Map<string, Uint8Array>();
    const range = new CompactRange();
    for (const l of leaves) for (const n of await range.append(l)) store.set(`${n.id.level}/${n.id.index}`, n.hash);
    const reader: NodeReader = { readNodes: async (ids) => ids.map((id) => store.get(`${id.level}/${id.index}`)!) };
    const text = formatCheckpoint({ origin: "example.com/log", size: 11, root: await range.root(), extensions: [] });
    const note = await signNote(
      text,
      "example.com/log",
      pub,
      async (m) => new Uint8Array(nodeSign(null, m, privateKey)),
    );
    const proofText = formatTlogProof({
      index: 6,
      proof: await buildProof(inclusionPlan(6, 11), reader),
      checkpoint: note,
    });

    const got = parseTlogProof(proofText);
    const opened = await openNote(got.checkpoint, [
      await parseVerifierKey(await formatVerifierKey("example.com/log", pub)),
    ]);
    const cp = parseCheckpoint(opened.text);
    await verifyInclusion(got.index, cp.size, leaves[6]!, got.proof, cp.root);
    await expect(verifyInclusion(got.index, cp.size, leaves[5]!, got.proof, cp.root)).rejects.toMatchObject({
      code: "ERR_PROOF",
    });
  });

  it("refuses malformed proofs", () => {
    const bad = [
      SPEC_EXAMPLE.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
      SPEC_EXAMPLE.replace("index 73894", "index 073894"),
      SPEC_EXAMPLE.replace("index 73894", "index -1"),
      SPEC_EXAMPLE.replace(
        "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=",
        "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPl==",
      ),
      SPEC_EXAMPLE.replace("\n\nexample.com", "\nexample.com"),
      "c2sp.org/tlog-proof@v1\nindex 1\n\n",
    ];
    for (const t of bad) expect(() => parseTlogProof(t), JSON.stringify(t.slice(0, 60))).toThrow();
  });
});
