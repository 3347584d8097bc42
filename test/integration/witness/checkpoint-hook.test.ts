/**
 * The publisher's witness hook against two real `kakunin-witness` processes, with the database's
 * CosignedSizes (SQLite): checkpoints get both cosignatures stored into their note; a killed witness
 * leaves the quorum missing and the checkpoint is retried with back-off until the witness is back;
 * a newer checkpoint supersedes the retry of an older one. The log side here is a real Merkle tree
 * (test/helpers/witness-tree.ts) with its notes in a map; the server-level suite uses the real store.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "../../../server/db/connect.js";
import { migrate } from "../../../server/db/migrations/index.js";
import { KyselyCosignedSizes } from "../../../server/log/storage/witness-state.js";
import { WitnessCheckpointHook, type WitnessRound } from "../../../server/log/witnessing/checkpoint-hook.js";
import { loadWitnessingConfig, type WitnessingConfig } from "../../../server/log/witnessing/config.js";
import { noteQuorum } from "../../../server/log/witnessing/note-quorum.js";
import { parseCheckpoint, parseNote } from "../../../verifier/src/formats/index.js";
import { startWitness, type WitnessProcess } from "../../helpers/witness.js";
import { MerkleTestLog } from "../../helpers/witness-tree.js";
import { until } from "../../helpers/wait.js";

const ISSUER = "iss_hook";
let log: MerkleTestLog;
let dir: string;
let db: Db;
let cfg: WitnessingConfig;
const w: Record<string, WitnessProcess> = {};
const ports: Record<string, string> = {};
/** The published notes by size, as the LogStore keeps them. */
const notes = new Map<number, string>();
const rounds: WitnessRound[] = [];
let hook: WitnessCheckpointHook;

async function witness(name: string): Promise<WitnessProcess> {
  const d = join(dir, name);
  const p = await startWitness([
    ...["--name", `${name}.example/witness`, "--key-file", join(dir, `${name}.pem`), "--data-dir", d],
    ...["--log", log.vkey],
    ...(ports[name] ? ["--port", ports[name]!] : []),
  ]);
  ports[name] = new URL(p.url).port;
  return p;
}

async function publish(grow: number) {
  await log.grow(grow);
  const note = await log.checkpoint();
  const body = parseNote(note).text;
  const cp = parseCheckpoint(body);
  notes.set(cp.size, note);
  hook.onCheckpoint({ issuerId: ISSUER, origin: cp.origin, size: cp.size, rootHash: cp.root, body, note });
  return cp.size;
}

const roundFor = (size: number, attempt?: number) => () =>
  rounds.find((r) => r.size === size && (attempt === undefined || r.attempt === attempt));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "witness-hook-"));
  log = await MerkleTestLog.create("log.example/hook");
  [w.w1, w.w2] = await Promise.all([witness("w1"), witness("w2")]);
  db = await createDb(join(dir, "log.db"));
  await migrate(db);
  cfg = await loadWitnessingConfig({
    KAKUNIN_WITNESSES: `w1 ${w.w1!.vkey} ${w.w1!.url}, w2 ${w.w2!.vkey} ${w.w2!.url}`,
    KAKUNIN_WITNESS_TIMEOUT_MS: "3000",
  });
  hook = new WitnessCheckpointHook({
    config: cfg,
    state: new KyselyCosignedSizes(db.db),
    log: {
      consistencyProof: (_issuer, from, to) => log.proofs(from, to),
      treeCheckpointAt: async (_issuer, size) => {
        const note = notes.get(size);
        return note === undefined ? undefined : { note };
      },
      addCheckpointSignatures: async (_issuer, size, note) => {
        const stored = notes.get(size)!;
        if (parseNote(note).text !== parseNote(stored).text) throw new Error("body differs");
        notes.set(size, note);
      },
    },
    retryFirstMs: 200,
    retryMaxMs: 800,
    onRound: (r) => rounds.push(r),
  });
});

afterAll(async () => {
  await hook?.close();
  await Promise.all(Object.values(w).map((p) => p.stop()));
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("witness checkpoint hook", () => {
  it("cosigns each new checkpoint with both witnesses and stores the lines into the note; sizes persist", async () => {
    const s1 = await publish(3);
    const r1 = await until("first round", roundFor(s1));
    expect(r1).toMatchObject({ cosigned: ["w1", "w2"], quorumMet: true, attempt: 1 });
    expect(await noteQuorum(notes.get(s1)!, cfg.witnesses, cfg.quorum)).toEqual({
      met: true,
      cosigned: ["w1", "w2"],
      missing: [],
    });
    const s2 = await publish(4);
    expect(await until("second round", roundFor(s2))).toMatchObject({ quorumMet: true });
    // The second round went from the sizes stored in the database (no 409 resync).
    expect(rounds.find((r) => r.size === s2)!.result.outcomes.map((o) => [o.oldSize, o.resynced])).toEqual([
      [s1, false],
      [s1, false],
    ]);
    const sizes = new KyselyCosignedSizes(db.db);
    expect([await sizes.get(w.w1!.vkey, log.origin), await sizes.get(w.w2!.vkey, log.origin)]).toEqual([s2, s2]);
  });

  it("a killed witness: the quorum is missing, the checkpoint is retried with back-off and completed once it is back", async () => {
    await w.w2!.kill();
    const s = await publish(2);
    const first = await until("round without w2", roundFor(s, 1));
    expect(first.quorumMet).toBe(false);
    expect(first.cosigned).toEqual(["w1"]);
    expect(first.result.outcomes.find((o) => o.witness === "w2")?.kind).toBe("unreachable");
    expect(await noteQuorum(notes.get(s)!, cfg.witnesses, cfg.quorum)).toMatchObject({ met: false, missing: ["w2"] });
    // Retries go to w2 only (w1's cosignature is already in the note).
    const retry = await until("a retry", roundFor(s, 2));
    expect(retry.result.outcomes.map((o) => o.witness)).toEqual(["w2"]);
    w.w2 = await witness("w2");
    const done = await until("quorum met", () => rounds.find((r) => r.size === s && r.quorumMet));
    expect(done.attempt).toBeGreaterThan(1);
    expect(done.cosigned).toEqual(["w1", "w2"]);
    expect(await noteQuorum(notes.get(s)!, cfg.witnesses, cfg.quorum)).toMatchObject({ met: true });
    // One line per witness: the retry did not add w1's twice.
    expect(parseNote(notes.get(s)!).signatures).toHaveLength(3);
  });

  it("a newer checkpoint supersedes the retry of an older one that missed its quorum", async () => {
    await w.w2!.kill();
    const older = await publish(1);
    await until("older round", roundFor(older, 1));
    const newer = await publish(1);
    await until("newer round", roundFor(newer, 1));
    w.w2 = await witness("w2");
    const done = await until("newer completed", () => rounds.find((r) => r.size === newer && r.quorumMet));
    expect(done.cosigned).toEqual(["w1", "w2"]);
    // The older checkpoint is never retried after the newer one came.
    const olderAfter = rounds.filter(
      (r) => r.size === older && rounds.indexOf(r) > rounds.indexOf(roundFor(newer, 1)()!),
    );
    expect(olderAfter).toEqual([]);
  });
});
