/**
 * Witness outages seen from the log side: a witness stopped with SIGSTOP (the deadline ends the call),
 * one killed between rounds and one killed while a request is in flight (unreachable). The round
 * never throws, the other witness still cosigns, and a restarted witness goes on from its kept state.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluateWitnessQuorum, parsePolicy, type TrustPolicy } from "../../../verifier/src/formats/index.js";
import { loadWitnessingConfig, type WitnessingConfig } from "../../../server/log/witnessing/config.js";
import { cosignCheckpoint } from "../../../server/log/witnessing/cosign.js";
import type { WitnessEndpoint } from "../../../server/log/witnessing/endpoint.js";
import { MemoryCosignedSizes } from "../../../server/log/witnessing/state.js";
import { startWitness, type WitnessProcess } from "../../helpers/witness.js";
import { MerkleTestLog } from "../../helpers/witness-tree.js";

let log: MerkleTestLog;
let w1: WitnessProcess;
let w2: WitnessProcess;
const dirs: Record<string, string> = {};
let cfg: WitnessingConfig;
let policy: TrustPolicy;
const state = new MemoryCosignedSizes();
const DEADLINE_MS = 1500;
const TIMEOUT_MS = 15_000;

async function witness(name: string): Promise<WitnessProcess> {
  dirs[name] ??= await mkdtemp(join(tmpdir(), `witnessing-outage-${name}-`));
  return startWitness([
    "--name",
    `${name}.example/witness`,
    "--key-file",
    join(dirs[name]!, "key.pem"),
    "--data-dir",
    dirs[name]!,
    "--log",
    log.vkey,
  ]);
}

beforeAll(async () => {
  log = await MerkleTestLog.create("log.example/outages");
  [w1, w2] = await Promise.all([witness("w1"), witness("w2")]);
  cfg = await loadWitnessingConfig({
    KAKUNIN_WITNESSES: `w1 ${w1.vkey} ${w1.url}, w2 ${w2.vkey} ${w2.url}`,
    KAKUNIN_WITNESS_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  policy = await parsePolicy(
    `log ${log.vkey}\nwitness W1 ${w1.vkey}\nwitness W2 ${w2.vkey}\ngroup both all W1 W2\nquorum both\n`,
  );
});
afterAll(async () => {
  await Promise.all([w1?.stop(), w2?.stop()]);
});

async function round(grow: number, witnesses: readonly WitnessEndpoint[] = cfg.witnesses, timeoutMs = TIMEOUT_MS) {
  await log.grow(grow);
  return cosignCheckpoint({
    note: await log.checkpoint(),
    witnesses,
    state,
    proofs: log.proofs,
    timeoutMs,
    quorum: cfg.quorum,
  });
}
const kinds = (r: Awaited<ReturnType<typeof round>>) => r.outcomes.map((o) => [o.witness, o.kind]);

describe("witness outages from the log side", () => {
  it("a witness stopped with SIGSTOP: its call ends at the deadline (timed-out), the other cosigns; after SIGCONT it cosigns again", async () => {
    expect(kinds(await round(3))).toEqual([
      ["w1", "cosigned"],
      ["w2", "cosigned"],
    ]);
    w1.pause();
    try {
      const r = await round(2, cfg.witnesses, DEADLINE_MS);
      expect(kinds(r)).toEqual([
        ["w1", "timed-out"],
        ["w2", "cosigned"],
      ]);
      const o = r.outcomes[0]!;
      expect(o.kind === "timed-out" && o.detail).toBe(`no answer within ${DEADLINE_MS} ms`);
      // The deadline, not an error, ended it.
      expect(o.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(r.quorumMet).toBe(false);
      const q = await evaluateWitnessQuorum(r.note, policy);
      expect([q.cosigned, q.missing]).toEqual([["W2"], ["W1"]]);
    } finally {
      w1.resume();
    }
    // After SIGCONT w1 handles the abandoned request (in practice before the next one), cosigning size 5
    // unseen by us: the next round's 409 tells, and the resend from 5 is cosigned.
    const after = await round(4);
    expect(kinds(after), JSON.stringify(after.outcomes)).toEqual([
      ["w1", "cosigned"],
      ["w2", "cosigned"],
    ]);
    const o1 = after.outcomes[0]!;
    expect([o1.oldSize, o1.resynced]).toEqual(o1.resynced ? [5, true] : [3, false]);
    expect((await evaluateWitnessQuorum(after.note, policy)).accepted).toBe(true);
  });

  it("a witness killed with kill -9 between rounds is unreachable; the other cosigns; restarted on its data, it goes on without a resync", async () => {
    await w1.kill();
    const sizeBefore = log.size;
    for (const grow of [1, 5]) {
      const r = await round(grow);
      expect(kinds(r)).toEqual([
        ["w1", "unreachable"],
        ["w2", "cosigned"],
      ]);
      const o = r.outcomes[0]!;
      expect(o.kind === "unreachable" && o.detail).toMatch(/ECONNREFUSED|fetch failed/);
      expect(r.quorumMet).toBe(false);
    }
    expect(await state.get(w1.vkey, log.origin)).toBe(sizeBefore);
    w1 = await witness("w1");
    // Same key file, so the same vkey; a new port.
    expect(w1.vkey).toBe(cfg.witnesses[0]!.vkey);
    cfg.witnesses[0] = { ...cfg.witnesses[0]!, url: w1.url };
    const r = await round(2);
    expect(r.outcomes.map((o) => [o.witness, o.kind, o.oldSize, o.resynced])).toEqual([
      ["w1", "cosigned", sizeBefore, false],
      ["w2", "cosigned", log.size - 2, false],
    ]);
  });

  it("a witness killed while a request is in flight: unreachable at once (not at the deadline); the round still returns the other's cosignature", async () => {
    w2.pause();
    const pending = round(3);
    // The request is queued at the stopped process; killing it resets the connection.
    await new Promise((r) => setTimeout(r, 300));
    await w2.kill();
    const r = await pending;
    expect(kinds(r)).toEqual([
      ["w1", "cosigned"],
      ["w2", "unreachable"],
    ]);
    expect(r.cosigned).toEqual(["w1"]);
    // Restarted, w2 resumes from what it persisted (its last cosigned size, or a 409 resync if that differs from ours).
    w2 = await witness("w2");
    cfg.witnesses[1] = { ...cfg.witnesses[1]!, url: w2.url };
    const after = await round(1);
    expect(kinds(after)).toEqual([
      ["w1", "cosigned"],
      ["w2", "cosigned"],
    ]);
    expect((await evaluateWitnessQuorum(after.note, policy)).accepted).toBe(true);
  });
});
