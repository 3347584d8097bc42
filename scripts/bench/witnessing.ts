/**
 * Cosigning latency added to a checkpoint: one cosignCheckpoint round (server/log/witnessing) against
 * 1–3 real kakunin-witness processes (key files), from a signed checkpoint to the merged note; and
 * with one witness stopped (SIGSTOP), where the round lasts the deadline.
 * `npm run bench -- witnessing [--seconds N] [--deadline-ms N]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadWitnessingConfig } from "../../server/log/witnessing/config.js";
import { cosignCheckpoint } from "../../server/log/witnessing/cosign.js";
import { MemoryCosignedSizes } from "../../server/log/witnessing/state.js";
import { startWitness, type WitnessProcess } from "../../test/helpers/witness.js";
import { MerkleTestLog } from "../../test/helpers/witness-tree.js";
import { fmt, percentile, table } from "./lib.js";

export const description =
  "log-side cosigning latency per checkpoint (1–3 witnesses; one stopped: bounded by the deadline)";

interface Case {
  witnesses: number;
  stopped: number;
  leavesPerCheckpoint: number;
}

async function measure(c: Case, seconds: number, deadlineMs: number): Promise<(string | number)[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-witnessing-"));
  const log = await MerkleTestLog.create("bench.example/witnessing");
  const ws: WitnessProcess[] = [];
  for (let i = 0; i < c.witnesses; i++) {
    ws.push(
      await startWitness([
        "--name",
        `w${i}.bench.example`,
        "--key-file",
        join(dir, `key-${i}.pem`),
        "--data-dir",
        join(dir, `w${i}`),
        "--log",
        log.vkey,
      ]),
    );
  }
  const cfg = await loadWitnessingConfig({
    KAKUNIN_WITNESSES: ws.map((w, i) => `w${i} ${w.vkey} ${w.url}`).join(","),
    KAKUNIN_WITNESS_TIMEOUT_MS: String(deadlineMs),
  });
  const state = new MemoryCosignedSizes();
  const round = async () => {
    await log.grow(c.leavesPerCheckpoint);
    const note = await log.checkpoint();
    const s = performance.now();
    const r = await cosignCheckpoint({
      note,
      witnesses: cfg.witnesses,
      state,
      proofs: log.proofs,
      timeoutMs: cfg.timeoutMs,
      quorum: cfg.quorum,
    });
    return { ms: performance.now() - s, cosigned: r.cosigned.length };
  };
  await round(); // first contact (old 0) and warm connections
  for (let i = 0; i < c.stopped; i++) ws[i]!.pause();
  const latencies: number[] = [];
  let cosignatures = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end || latencies.length < 3) {
    const r = await round();
    latencies.push(r.ms);
    cosignatures += r.cosigned;
  }
  for (const w of ws) await w.stop();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return [
    c.witnesses,
    c.stopped,
    c.leavesPerCheckpoint,
    latencies.length,
    fmt(cosignatures / latencies.length, 1),
    fmt(percentile(latencies, 50), 2),
    fmt(percentile(latencies, 99), 2),
  ];
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { seconds: { type: "string", default: "5" }, "deadline-ms": { type: "string", default: "1000" } },
  });
  const seconds = Number(values.seconds);
  const deadlineMs = Number(values["deadline-ms"]);
  const cases: Case[] = [
    { witnesses: 1, stopped: 0, leavesPerCheckpoint: 1 },
    { witnesses: 2, stopped: 0, leavesPerCheckpoint: 1 },
    { witnesses: 3, stopped: 0, leavesPerCheckpoint: 1 },
    { witnesses: 2, stopped: 0, leavesPerCheckpoint: 1000 },
    { witnesses: 2, stopped: 1, leavesPerCheckpoint: 1 },
  ];
  const rows: (string | number)[][] = [];
  for (const c of cases) rows.push(await measure(c, seconds, deadlineMs));
  console.log(
    table(["witnesses", "stopped", "leaves/checkpoint", "rounds", "cosignatures/round", "p50 ms", "p99 ms"], rows),
  );
  console.log(
    `(a round: proofs built, add-checkpoint to all witnesses in parallel, answers verified, note merged; each witness fsyncs; deadline ${deadlineMs} ms)`,
  );
}
