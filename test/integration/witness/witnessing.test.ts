/**
 * The log-side witnessing client (server/log/witnessing) against two real, independent kakunin-witness
 * processes, with checkpoints of real Merkle trees signed with WebCrypto Ed25519 keys: a growing
 * sequence, a 409 resync, an equivocating log, a rollback, and quorum evaluation of the merged notes.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkSplitView,
  evaluateWitnessQuorum,
  openNote,
  parseNote,
  parsePolicy,
  type TrustPolicy,
} from "../../../verifier/src/formats/index.js";
import { loadWitnessingConfig, type WitnessingConfig } from "../../../server/log/witnessing/config.js";
import { cosignCheckpoint } from "../../../server/log/witnessing/cosign.js";
import { MemoryCosignedSizes } from "../../../server/log/witnessing/state.js";
import { startWitness, type WitnessProcess } from "../../helpers/witness.js";
import { MerkleTestLog } from "../../helpers/witness-tree.js";
import { verifyCosignatureLineFromSpec } from "./spec-verifier.js";

let w1: WitnessProcess;
let w2: WitnessProcess;
let cfg: WitnessingConfig;
let policy: TrustPolicy;
const logs: Record<string, MerkleTestLog> = {};
const TIMEOUT_MS = 15_000;

async function witness(name: string, origins: MerkleTestLog[]): Promise<WitnessProcess> {
  const dir = await mkdtemp(join(tmpdir(), `witnessing-${name}-`));
  return startWitness([
    "--name",
    `${name}.example/witness`,
    "--key-file",
    join(dir, "key.pem"),
    "--data-dir",
    dir,
    ...origins.flatMap((l) => ["--log", l.vkey]),
  ]);
}

beforeAll(async () => {
  for (const name of ["growing", "resync", "equivocating", "rollback"])
    logs[name] = await MerkleTestLog.create(`log.example/${name}`);
  const all = Object.values(logs);
  [w1, w2] = await Promise.all([witness("w1", all), witness("w2", all)]);
  cfg = await loadWitnessingConfig({
    KAKUNIN_WITNESSES: `w1 ${w1.vkey} ${w1.url}\nw2 ${w2.vkey} ${w2.url}`,
    KAKUNIN_WITNESS_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  policy = await parsePolicy(
    `${all.map((l) => `log ${l.vkey}`).join("\n")}\nwitness W1 ${w1.vkey} ${w1.url}\nwitness W2 ${w2.vkey} ${w2.url}\ngroup both all W1 W2\nquorum both\n`,
  );
});
afterAll(async () => {
  await Promise.all([w1?.stop(), w2?.stop()]);
});

function round(log: MerkleTestLog, note: string, state: MemoryCosignedSizes, witnesses = cfg.witnesses) {
  return cosignCheckpoint({ note, witnesses, state, proofs: log.proofs, timeoutMs: cfg.timeoutMs, quorum: cfg.quorum });
}

describe("log-side witnessing against two kakunin-witness processes", () => {
  it("a growing sequence is cosigned by both; the merged notes meet a 2-of-2 policy and verify with a spec-written verifier", async () => {
    const log = logs.growing!;
    const state = new MemoryCosignedSizes();
    let previous = 0;
    for (const grow of [1, 1, 2, 5, 9, 31, 64, 3]) {
      await log.grow(grow);
      const note = await log.checkpoint();
      const r = await round(log, note, state);
      expect(
        r.outcomes.map((o) => [o.witness, o.kind, o.oldSize, o.resynced]),
        JSON.stringify(r.outcomes),
      ).toEqual([
        ["w1", "cosigned", previous, false],
        ["w2", "cosigned", previous, false],
      ]);
      expect([r.cosigned, r.quorumMet]).toEqual([["w1", "w2"], true]);
      // The log's line first, then w1's and w2's, in configuration order; nothing else changed.
      const lines = r.outcomes.flatMap((o) => (o.kind === "cosigned" ? o.lines : []));
      expect(r.note).toBe(note + lines.join(""));
      const text = await log.text();
      expect(verifyCosignatureLineFromSpec(text, lines[0]!, w1.vkey)).toBeGreaterThan(1_700_000_000);
      verifyCosignatureLineFromSpec(text, lines[1]!, w2.vkey);
      await openNote(r.note, [log.key.key]);
      const q = await evaluateWitnessQuorum(r.note, policy);
      expect([q.log.status, q.cosigned, q.missing, q.quorumMet, q.accepted]).toEqual([
        "verified",
        ["W1", "W2"],
        [],
        true,
        true,
      ]);
      expect(await state.get(w1.vkey, log.origin)).toBe(log.size);
      previous = log.size;
    }
    // The same checkpoint again: old size = size, empty proof, cosigned again.
    const again = await round(log, await log.checkpoint(), state);
    expect(again.outcomes.map((o) => [o.kind, o.oldSize])).toEqual([
      ["cosigned", log.size],
      ["cosigned", log.size],
    ]);
  });

  it("resyncs after a 409: the witness knows a later size than the client's state says (none, or an older one)", async () => {
    const log = logs.resync!;
    await log.grow(10);
    const first = await round(log, await log.checkpoint(), new MemoryCosignedSizes());
    expect(first.outcomes.map((o) => o.kind)).toEqual(["cosigned", "cosigned"]);
    await log.grow(7);
    // A client that lost its state sends old 0; each witness answers 409 "10", the client resends from 10.
    const forgetful = new MemoryCosignedSizes();
    const r = await round(log, await log.checkpoint(), forgetful);
    expect(
      r.outcomes.map((o) => [o.kind, o.oldSize, o.resynced]),
      JSON.stringify(r.outcomes),
    ).toEqual([
      ["cosigned", 10, true],
      ["cosigned", 10, true],
    ]);
    expect(await forgetful.get(w2.vkey, log.origin)).toBe(17);
    // A stale state (size 4 for w1) is corrected the same way; w2's right state needs no resync.
    await log.grow(6);
    const stale = new MemoryCosignedSizes();
    await stale.set(w1.vkey, log.origin, 4);
    await stale.set(w2.vkey, log.origin, 17);
    const s = await round(log, await log.checkpoint(), stale);
    expect(s.outcomes.map((o) => [o.witness, o.kind, o.oldSize, o.resynced])).toEqual([
      ["w1", "cosigned", 17, true],
      ["w2", "cosigned", 17, false],
    ]);
    expect((await evaluateWitnessQuorum(s.note, policy)).accepted).toBe(true);
  });

  it("an equivocating log: two roots at one size, one to each witness; the second witness to see both refuses, and the notes are split-view evidence", async () => {
    const honest = logs.equivocating!;
    await honest.grow(12);
    const forked = honest.fork(5);
    await forked.grow(12);
    const stateH = new MemoryCosignedSizes();
    const stateF = new MemoryCosignedSizes();
    const viaW1 = await round(honest, await honest.checkpoint(), stateH, [cfg.witnesses[0]!]);
    const viaW2 = await round(forked, await forked.checkpoint(), stateF, [cfg.witnesses[1]!]);
    expect([viaW1.outcomes[0]!.kind, viaW2.outcomes[0]!.kind]).toEqual(["cosigned", "cosigned"]);
    // w2 (which cosigned the fork at 12) now sees the honest 12: same size, other root → 422.
    const second = await round(honest, await honest.checkpoint(), stateF, [cfg.witnesses[1]!]);
    const o = second.outcomes[0]!;
    expect(o.kind === "refused" ? [o.status, o.detail] : o).toEqual([
      422,
      expect.stringMatching(/^ERR_WITNESS_CONSISTENCY: size 12 was cosigned with another root/),
    ]);
    // Unchanged (Ed25519 is deterministic): no cosignature added.
    expect(second.note).toBe(await honest.checkpoint());
    expect(parseNote(second.note).signatures).toHaveLength(1);
    // w1 (which cosigned honest 12) refuses the fork grown on: its proof from 12 does not lead to w1's root.
    await forked.grow(4);
    const third = await round(forked, await forked.checkpoint(), stateH, [cfg.witnesses[0]!]);
    expect(third.outcomes[0]!.kind === "refused" && third.outcomes[0]!.status).toBe(422);
    // A verifier holding both cosigned notes: conclusive evidence, both notes verbatim.
    const split = await checkSplitView(viaW1.note, viaW2.note, [honest.key.key]);
    expect(split.consistent).toBe(false);
    if (split.consistent) return;
    expect([split.reason, split.conclusive]).toEqual(["different-roots", true]);
    expect(split.evidence).toContain(viaW1.note);
    expect(split.evidence).toContain(viaW2.note);
    // Each note alone has only one witness: the 2-of-2 policy is not met by either.
    expect((await evaluateWitnessQuorum(viaW1.note, policy)).missing).toEqual(["W2"]);
    expect((await evaluateWitnessQuorum(viaW2.note, policy)).quorumMet).toBe(false);
  });

  it("refuses a rollback: 400 when the client sends its known size, 409 (no resend) when it sends 0", async () => {
    const log = logs.rollback!;
    await log.grow(20);
    const state = new MemoryCosignedSizes();
    expect((await round(log, await log.checkpoint(), state)).cosigned).toEqual(["w1", "w2"]);
    const older = await log.checkpoint(12);
    const r = await round(log, older, state);
    expect(r.outcomes.map((o) => (o.kind === "refused" ? [o.status, o.oldSize] : o.kind))).toEqual([
      [400, 20],
      [400, 20],
    ]);
    expect(r.outcomes[0]!.kind === "refused" && r.outcomes[0]!.detail).toMatch(/ERR_WITNESS_OLD_SIZE/);
    const fresh = new MemoryCosignedSizes();
    const f = await round(log, older, fresh);
    expect(f.outcomes.map((o) => (o.kind === "refused" ? [o.status, o.resynced, o.detail] : o.kind))).toEqual([
      [409, false, "the witness has cosigned size 20, above this checkpoint's size 12"],
      [409, false, "the witness has cosigned size 20, above this checkpoint's size 12"],
    ]);
    expect(await fresh.get(w1.vkey, log.origin)).toBe(20);
    expect([f.quorumMet, f.note]).toEqual([false, older]);
  });

  it("counts a forged cosignature for nothing: a real w2 line of another checkpoint appended to a w1-only note", async () => {
    const log = logs.growing!;
    const state = new MemoryCosignedSizes();
    const before = await round(log, await log.checkpoint(), state);
    const w2LineOld = before.outcomes[1]!.kind === "cosigned" ? before.outcomes[1]!.lines[0]! : "";
    await log.grow(2);
    const onlyW1 = await round(log, await log.checkpoint(), state, [cfg.witnesses[0]!]);
    expect(onlyW1.quorumMet).toBe(false);
    const q1 = await evaluateWitnessQuorum(onlyW1.note, policy);
    expect([q1.cosigned, q1.missing, q1.quorumMet]).toEqual([["W1"], ["W2"], false]);
    expect(q1.summary).toBe('witness quorum "both" not met (cosigned by W1; missing W2; both has 1 of 2)');
    const forged = await evaluateWitnessQuorum(onlyW1.note + w2LineOld, policy);
    expect([forged.cosigned, forged.invalid, forged.quorumMet, forged.accepted]).toEqual([
      ["W1"],
      ["W2"],
      false,
      false,
    ]);
    // A 1-of-2 policy is met by the w1-only note.
    const anyPolicy = await parsePolicy(
      `log ${log.vkey}\nwitness W1 ${w1.vkey}\nwitness W2 ${w2.vkey}\ngroup one any W1 W2\nquorum one\n`,
    );
    expect((await evaluateWitnessQuorum(onlyW1.note, anyPolicy)).accepted).toBe(true);
  });
});
