/**
 * kakunin-witness add-checkpoint throughput: a real witness process over HTTP, the log side played by
 * this process (formats primitives + Ed25519). Key file vs local KMS (0 and 15 ms injected latency);
 * one origin (requests of one log are serialised by design) and 8 origins in parallel.
 * `npm run bench -- witness [--seconds N]`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { startLocalKms, LOCAL_KMS_ACCESS_KEY_ID, type LocalKms } from "../../test/helpers/kms.js";
import { startWitness } from "../../test/helpers/witness.js";
import { addCheckpoint, TestLog } from "../../test/helpers/witness-log.js";
import { fmt, percentile, table } from "./lib.js";

export const description = "kakunin-witness add-checkpoint/s (key file vs local KMS; 1 and 8 origins)";

interface Case {
  signer: "key file" | "kms 0 ms" | "kms 15 ms";
  origins: number;
}

async function measure(c: Case, seconds: number): Promise<(string | number)[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-witness-"));
  let kms: LocalKms | undefined;
  const logs = Array.from({ length: c.origins }, (_, i) => new TestLog(`bench.example/log-${i}`));
  // Enough leaves for the run: each checkpoint adds one leaf.
  for (const l of logs) await l.grow(64);
  const args = [
    "--name",
    "bench.example/w",
    "--data-dir",
    dir,
    ...(await Promise.all(logs.map(async (l) => ["--log", await l.vkey()]))).flat(),
  ];
  let env: NodeJS.ProcessEnv = {};
  if (c.signer === "key file") args.push("--key-file", join(dir, "key.pem"));
  else {
    kms = await startLocalKms({ latencyMs: c.signer === "kms 15 ms" ? 15 : 0 });
    const key = await kms
      .client()
      .send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" }));
    args.push("--kms-key-id", key.KeyMetadata!.KeyId!);
    env = {
      KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: kms.region,
      AWS_ACCESS_KEY_ID: LOCAL_KMS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: "local",
    };
  }
  const w = await startWitness(args, env);
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    logs.map(async (log) => {
      let old = 0;
      while (Date.now() < end) {
        await log.grow(1);
        const body = await log.body(old);
        const s = performance.now();
        const r = await addCheckpoint(w.url, body);
        latencies.push(performance.now() - s);
        if (r.status === 200) old = log.size;
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await w.stop();
  await kms?.stop();
  rmSync(dir, { recursive: true, force: true });
  latencies.sort((a, b) => a - b);
  return [
    c.signer,
    c.origins,
    latencies.length - errors,
    errors,
    fmt((latencies.length - errors) / elapsed),
    fmt(percentile(latencies, 50), 2),
    fmt(percentile(latencies, 99), 2),
  ];
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { seconds: { type: "string", default: "5" } } });
  const seconds = Number(values.seconds);
  const cases: Case[] = [
    { signer: "key file", origins: 1 },
    { signer: "key file", origins: 8 },
    { signer: "kms 0 ms", origins: 1 },
    { signer: "kms 0 ms", origins: 8 },
    { signer: "kms 15 ms", origins: 1 },
  ];
  const rows: (string | number)[][] = [];
  for (const c of cases) rows.push(await measure(c, seconds));
  console.log(table(["signer", "origins", "cosigned", "errors", "add-checkpoint/s", "p50 ms", "p99 ms"], rows));
  console.log(
    "(each request includes the client building its proof and signing the checkpoint; the witness fsyncs per cosignature)",
  );
}
