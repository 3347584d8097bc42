/** Split-view detection over real Merkle trees: same size two roots, proofs valid, invalid or missing, and the evidence text. */
import { beforeAll, describe, expect, it } from "vitest";
import {
  buildProof,
  checkSplitView,
  CompactRange,
  consistencyPlan,
  emptyRoot,
  formatCheckpoint,
  hashLeaf,
  openNote,
  rootFromNodes,
  type NodeId,
  type NodeReader,
} from "../../../verifier/src/formats/index.js";
import { logKey, type LogKey } from "../../helpers/witness-keys.js";

const ORIGIN = "log.example/issuer-a";

/** A tree whose leaves from `forkAt` on differ from the main history's. */
async function tree(size: number, forkAt = Infinity) {
  const nodes = new Map<string, Uint8Array>();
  const range = new CompactRange();
  for (let i = 0; i < size; i++) {
    for (const n of await range.append(
      await hashLeaf(new TextEncoder().encode(`${i >= forkAt ? "fork" : "entry"} ${i}`)),
    ))
      nodes.set(`${n.id.level}/${n.id.index}`, n.hash);
  }
  const reader: NodeReader = {
    readNodes: async (ids: readonly NodeId[]) => ids.map((id) => nodes.get(`${id.level}/${id.index}`)!),
  };
  return {
    root: (n: number) => (n === 0 ? emptyRoot() : rootFromNodes(n, reader)),
    proof: (a: number, b: number) => buildProof(consistencyPlan(a, b), reader),
  };
}

let log: LogKey;
let main: Awaited<ReturnType<typeof tree>>;
let fork: Awaited<ReturnType<typeof tree>>;
const signed = async (t: typeof main, size: number, key = log) =>
  key.signNote(formatCheckpoint({ origin: ORIGIN, size, root: (await t.root(size)) as never, extensions: [] }));

beforeAll(async () => {
  log = await logKey(ORIGIN);
  main = await tree(40);
  fork = await tree(40, 9);
});

describe("split view", () => {
  it("one history: equal checkpoints, a proven extension in either order, and the empty tree", async () => {
    const a = await signed(main, 13);
    const b = await signed(main, 37);
    expect((await checkSplitView(a, a, [log.key])).consistent).toBe(true);
    const r = await checkSplitView(b, a, [log.key], await main.proof(13, 37));
    expect(r.consistent).toBe(true);
    expect([r.older.checkpoint.size, r.newer.checkpoint.size]).toEqual([13, 37]);
    expect((await checkSplitView(await signed(main, 0), b, [log.key])).consistent).toBe(true);
  });

  it("two roots at one size: conclusive, and the evidence holds both signed notes byte for byte", async () => {
    const a = await signed(main, 20);
    const b = await signed(fork, 20);
    const r = await checkSplitView(a, b, [log.key]);
    if (r.consistent) throw new Error("expected a split view");
    expect([r.reason, r.conclusive]).toEqual(["different-roots", true]);
    expect(r.detail).toBe("the log showed two histories: two different roots at size 20");
    expect(r.evidence.startsWith(`kakunin split-view evidence\norigin: ${ORIGIN}\nfinding: ${r.detail}\n\n`)).toBe(
      true,
    );
    // Cut each note out by the length its marker gives; each still verifies under the log's key.
    for (const [i, note] of [
      [1, a],
      [2, b],
    ] as const) {
      const m = new RegExp(`^----- checkpoint ${i}: size 20, (\\d+) characters -----\\n`, "m").exec(r.evidence)!;
      const cut = r.evidence.slice(m.index + m[0].length, m.index + m[0].length + Number(m[1]));
      expect(cut).toBe(note);
      await openNote(cut, [log.key]);
    }
    expect(r.evidence.endsWith("----- end -----\n")).toBe(true);
  });

  it("different sizes: a proof of the other history is invalid, no proof is missing (both not conclusive)", async () => {
    const a = await signed(main, 12);
    const b = await signed(fork, 30);
    const bad = await checkSplitView(a, b, [log.key], await main.proof(12, 30));
    expect(bad.consistent ? undefined : [bad.reason, bad.conclusive]).toEqual(["proof-invalid", false]);
    const forkProof = await fork.proof(12, 30);
    const alsoBad = await checkSplitView(a, b, [log.key], forkProof);
    expect(alsoBad.consistent).toBe(false);
    if (!alsoBad.consistent)
      expect(alsoBad.evidence).toContain(`----- consistency proof 12 -> 30: ${forkProof.length} hashes -----\n`);
    const missing = await checkSplitView(a, b, [log.key]);
    expect(missing.consistent ? undefined : [missing.reason, missing.conclusive]).toEqual(["proof-missing", false]);
    // Before the fork point the two histories agree: fork's proof from 8 is valid against main's 8.
    expect((await checkSplitView(await signed(main, 8), b, [log.key], await fork.proof(8, 30))).consistent).toBe(true);
  });

  it("a size-0 checkpoint with a non-empty root is conclusive", async () => {
    const zero = await log.signNote(
      formatCheckpoint({ origin: ORIGIN, size: 0, root: (await main.root(3)) as never, extensions: [] }),
    );
    const r = await checkSplitView(zero, await signed(main, 3), [log.key]);
    expect(r.consistent ? undefined : [r.reason, r.conclusive]).toEqual(["empty-tree-root", true]);
  });

  it("refuses notes the log did not sign, other origins, and malformed notes, with typed errors", async () => {
    const a = await signed(main, 5);
    const stranger = await logKey(ORIGIN);
    await expect(checkSplitView(a, await signed(fork, 5, stranger), [log.key])).rejects.toMatchObject({
      code: "ERR_NOTE_SIGNATURE",
    });
    await expect(checkSplitView(a, await signed(fork, 5, stranger), [log.key])).rejects.toThrow(/second checkpoint/);
    const other = await logKey("log.example/issuer-b");
    await expect(
      checkSplitView(
        a,
        await other.signNote(
          formatCheckpoint({ origin: other.name, size: 5, root: (await main.root(5)) as never, extensions: [] }),
        ),
        [log.key, other.key],
      ),
    ).rejects.toThrow(/two origins/);
    await expect(checkSplitView("not a note", a, [log.key])).rejects.toMatchObject({ code: "ERR_NOTE_FORMAT" });
    // A pinned key of another name does not vouch for this origin.
    await expect(checkSplitView(a, a, [other.key])).rejects.toThrow(/no pinned log key is named after its origin/);
  });
});
