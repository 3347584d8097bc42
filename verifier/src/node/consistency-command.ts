/**
 * `kakunin-verify consistency A B`: two signed checkpoints of one log either describe one history, or
 * the log showed two — then it FAILS and prints both signed notes as evidence. Exit codes as the other
 * commands: 0 consistent, 1 not shown consistent, 2 usage error or input that cannot be used.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import {
  checkSplitView,
  evaluateWitnessQuorum,
  parsePolicy,
  parseVerifierKey,
  type NoteVerifierKey,
  type TrustPolicy,
} from "../formats/index.js";
import { base64Decode, base64Encode } from "../formats/bytes.js";
// Usage errors and unreadable files are the CLI's one InputError (exit 2), read by its one reader.
import { InputError as UsageError, readText } from "./cli-input.js";

const EXIT = { PASSED: 0, FAILED: 1, USAGE: 2 } as const;

/** A proof file: one base64 hash a line (blank lines ignored), as tlog-proof and add-checkpoint write them. */
function readProof(path: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  readText(path, "proof")
    .split("\n")
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === "") return;
      let h: Uint8Array;
      try {
        h = base64Decode(line, "proof");
      } catch {
        throw new UsageError(`proof ${path}:${i + 1}: not base64`);
      }
      if (h.length !== 32 || base64Encode(h) !== line)
        throw new UsageError(`proof ${path}:${i + 1}: not canonical base64 of a 32-byte hash`);
      out.push(h);
    });
  return out;
}

async function logKeys(o: {
  policy?: string;
  logKey?: string[];
}): Promise<{ keys: NoteVerifierKey[]; policy?: TrustPolicy }> {
  let policy: TrustPolicy | undefined;
  if (o.policy) {
    try {
      policy = await parsePolicy(new Uint8Array(readFileSync(o.policy)));
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { line?: number };
      if (err.code && err.code !== "ERR_POLICY") throw new UsageError(`cannot read policy ${o.policy}: ${err.code}`);
      throw new UsageError(`policy ${o.policy}:${err.line ?? 0}: ${err.message}`);
    }
  }
  const keys = policy ? policy.logs.map((l) => l.key) : [];
  for (const v of o.logKey ?? []) {
    try {
      keys.push(await parseVerifierKey(v));
    } catch (e) {
      throw new UsageError(`--log-key ${v}: ${(e as Error).message}`);
    }
  }
  if (keys.length === 0)
    throw new UsageError(
      "the log's verifier key is required: --log-key VKEY or --policy FILE with a log line (never taken from the input)",
    );
  return { keys, ...(policy ? { policy } : {}) };
}

async function run(
  fileA: string,
  fileB: string,
  o: { policy?: string; logKey?: string[]; proof?: string; json?: boolean },
): Promise<number> {
  const { keys, policy } = await logKeys(o);
  const a = readText(fileA, "checkpoint");
  const b = readText(fileB, "checkpoint");
  const proof = o.proof ? readProof(o.proof) : undefined;
  let result;
  try {
    result = await checkSplitView(a, b, keys, proof);
  } catch (e) {
    const field = (e as { field?: string }).field;
    const file = field === "first" ? fileA : field === "second" ? fileB : `${fileA}, ${fileB}`;
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  const witnessing = policy
    ? await Promise.all([result.older, result.newer].map((c) => evaluateWitnessQuorum(c.note, policy)))
    : [];
  const verdict = result.consistent ? "PASSED" : "FAILED";
  if (o.json) {
    const { older, newer, ...rest } = result;
    const sizes = { older: older.checkpoint.size, newer: newer.checkpoint.size };
    const witnesses = witnessing.map((q) => ({
      size: q.checkpoint.size,
      cosigned: q.cosigned,
      missing: q.missing,
      invalid: q.invalid,
      quorumMet: q.quorumMet,
    }));
    process.stdout.write(`${JSON.stringify({ verdict, ...rest, sizes, ...(policy ? { witnesses } : {}) }, null, 2)}\n`);
  } else {
    let out = `${verdict}: ${result.origin}: ${result.detail}\n`;
    for (const q of witnessing) out += `  checkpoint of size ${q.checkpoint.size}: ${q.summary}\n`;
    if (!result.consistent) {
      out += result.conclusive
        ? "The log signed two checkpoints that cannot both be true: it showed two histories. Evidence (both signed notes):\n\n"
        : "Consistency was not shown. Both signed notes:\n\n";
      out += result.evidence;
    }
    process.stdout.write(out);
  }
  return result.consistent ? EXIT.PASSED : EXIT.FAILED;
}

/** Adds the `consistency` command to the kakunin-verify program. */
export function addConsistencyCommand(p: Command): void {
  p.command("consistency")
    .argument("<checkpoint1>", "a signed checkpoint note (C2SP tlog-checkpoint), with any cosignatures")
    .argument("<checkpoint2>", "another signed checkpoint of the same log")
    .description("check that two checkpoints of one log are one history; FAILED with both notes as evidence if not")
    .option("--log-key <vkey...>", "the log's pinned signed-note verifier key(s) (<origin>+<id>+<base64>)")
    .option("--policy <file>", "a C2SP tlog-policy file: its log keys, and a witness report per checkpoint")
    .option("--proof <file>", "RFC 9162 consistency proof from the smaller to the larger size, one base64 hash a line")
    .option("--json", "print the result as JSON", false)
    .action(async (fileA: string, fileB: string, o) => {
      try {
        process.exitCode = await run(fileA, fileB, o);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        process.stderr.write(`kakunin-verify: ${e.message}\n`);
        process.exitCode = EXIT.USAGE;
      }
    });
}
