/** The quorum of a stored checkpoint note, read from its verified cosignature lines, and its header. */
import { describe, expect, it } from "vitest";
import { mergeCosignatures } from "../../../server/log/witnessing/merge.js";
import { noteQuorum, quorumHeader } from "../../../server/log/witnessing/note-quorum.js";
import type { WitnessEndpoint } from "../../../server/log/witnessing/endpoint.js";
import type { QuorumRule } from "../../../verifier/src/formats/index.js";
import { cosignerKey, type CosignerKey } from "../../helpers/witness-keys.js";
import { MerkleTestLog } from "../../helpers/witness-tree.js";

const endpoint = (name: string, k: CosignerKey): WitnessEndpoint => ({
  name,
  vkey: k.vkey,
  key: k.key,
  url: `http://${name}.example`,
});
const kOf = (k: number, names: string[]): QuorumRule => ({
  kind: "group",
  name: "KAKUNIN_WITNESSES",
  threshold: k,
  members: names.map((name) => ({ kind: "witness", name })),
});

describe("noteQuorum", async () => {
  const log = await (await MerkleTestLog.create("kakunin.test/log/iss_q")).grow(5);
  const [a, b, c] = await Promise.all(["wa.example", "wb.example", "wc.example"].map((n) => cosignerKey(n)));
  const ws = [endpoint("a", a!), endpoint("b", b!), endpoint("c", c!)];
  const note = await log.checkpoint();
  const text = await log.text();

  it("counts only lines that verify under the pinned key; the header names who is missing", async () => {
    const two = mergeCosignatures(note, [await a!.cosign(text), await c!.cosign(text)]).note;
    expect(await noteQuorum(two, ws, kOf(2, ["a", "b", "c"]))).toEqual({
      met: true,
      cosigned: ["a", "c"],
      missing: ["b"],
    });
    const q = (await noteQuorum(two, ws, kOf(3, ["a", "b", "c"])))!;
    expect(q.met).toBe(false);
    expect(quorumHeader(q)).toBe("missing; cosigned=a,c; missing=b");
    expect(quorumHeader((await noteQuorum(two, ws.slice(0, 1), kOf(1, ["a"])))!)).toBe("met; cosigned=a");
    expect(quorumHeader((await noteQuorum(note, ws, kOf(1, ["a", "b", "c"])))!)).toBe(
      "missing; cosigned=; missing=a,b,c",
    );
  });

  it("a line over another checkpoint, or by an impostor under a witness's name, does not count", async () => {
    const other = await log.text(4);
    const impostor = await cosignerKey("wb.example"); // same name, another key: another key ID
    const forged = mergeCosignatures(note, [await a!.cosign(other), await impostor.cosign(text)]).note;
    expect(await noteQuorum(forged, ws, kOf(1, ["a", "b", "c"]))).toEqual({
      met: false,
      cosigned: [],
      missing: ["a", "b", "c"],
    });
  });

  it("says nothing without witnesses; names are percent-encoded in the header", async () => {
    expect(await noteQuorum(note, [], { kind: "none" })).toBeUndefined();
    expect(quorumHeader({ met: false, cosigned: ["x;y"], missing: ["ü,v"] })).toBe(
      "missing; cosigned=x%3By; missing=%C3%BC%2Cv",
    );
  });
});
