/**
 * Which witnesses the log submits checkpoints to, from the environment:
 *
 * - `KAKUNIN_WITNESSES`: entries separated by commas or newlines, each `<name> <cosigner vkey> <url>`
 *   (whitespace between the three; a comma inside a URL must be written %2C). Quorum: all of them, or
 *   `KAKUNIN_WITNESS_QUORUM=<k>` of them.
 * - `KAKUNIN_WITNESS_POLICY=<file>`: a C2SP tlog-policy file; its witnesses that have a URL are
 *   submitted to, and its quorum is the one checkpoints are flagged against.
 * - `KAKUNIN_WITNESS_TIMEOUT_MS`: the deadline of each witness exchange (default 5000).
 */
import { readFileSync } from "node:fs";
import {
  bytesEqual,
  parseCosignerVerifierKey,
  parsePolicy,
  QUORUM_NONE,
  type QuorumRule,
} from "../../../verifier/src/formats/index.js";
import type { WitnessEndpoint } from "./endpoint.js";

export const DEFAULT_WITNESS_TIMEOUT_MS = 5000;

/** The parsed configuration; `witnesses` empty means witnessing is off. */
export interface WitnessingConfig {
  witnesses: WitnessEndpoint[];
  quorum: QuorumRule;
  timeoutMs: number;
  source: "KAKUNIN_WITNESSES" | "KAKUNIN_WITNESS_POLICY" | "none";
}

/** A bad witness configuration; the message names the variable, the entry (or policy line) and the field. */
export class WitnessConfigError extends Error {
  readonly code = "ERR_WITNESS_CONFIG";
  constructor(
    message: string,
    readonly field: string,
    readonly entry?: number,
  ) {
    super(message);
  }
}

/** A submission prefix: http(s), no query or fragment, no trailing '/'. */
function submissionUrl(raw: string, where: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new WitnessConfigError(`${where} (url): "${raw}" is not a URL`, "url");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new WitnessConfigError(`${where} (url): "${raw}" must be http or https`, "url");
  if (u.search || u.hash || u.username || u.password)
    throw new WitnessConfigError(`${where} (url): "${raw}" must not have a query, fragment or credentials`, "url");
  return u.href.replace(/\/+$/, "");
}

function checkDuplicates(list: WitnessEndpoint[], w: WitnessEndpoint, where: string, entry?: number): void {
  if (w.name === QUORUM_NONE)
    throw new WitnessConfigError(`${where} (name): "${QUORUM_NONE}" is reserved`, "name", entry);
  if (list.some((o) => o.name === w.name))
    throw new WitnessConfigError(`${where} (name): witness "${w.name}" is named twice`, "name", entry);
  const same = list.find((o) => bytesEqual(o.key.publicKey, w.key.publicKey));
  if (same)
    throw new WitnessConfigError(`${where} (vkey): the same public key as witness "${same.name}"`, "vkey", entry);
}

/** Parses the compact `KAKUNIN_WITNESSES` list. */
export async function parseWitnessList(value: string): Promise<WitnessEndpoint[]> {
  const out: WitnessEndpoint[] = [];
  const entries = value.split(/[,\n]/).map((e) => e.trim());
  for (const [i, raw] of entries.entries()) {
    if (raw === "") continue;
    const entry = i + 1;
    const where = `KAKUNIN_WITNESSES entry ${entry}`;
    const fields = raw.split(/[ \t]+/);
    if (fields.length !== 3)
      throw new WitnessConfigError(
        `${where}: expected "<name> <vkey> <url>", got ${fields.length} fields in "${raw}"`,
        "entry",
        entry,
      );
    const [name, vkey, url] = fields as [string, string, string];
    let key;
    try {
      key = await parseCosignerVerifierKey(vkey);
    } catch (e) {
      throw new WitnessConfigError(`${where} (vkey): ${(e as Error).message}`, "vkey", entry);
    }
    const w = { name, vkey, key, url: submissionUrl(url, where) };
    checkDuplicates(out, w, where, entry);
    out.push(w);
  }
  return out;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, dflt: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return dflt;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < 1 || Number(raw) > max)
    throw new WitnessConfigError(`${name} must be an integer from 1 to ${max}, got "${raw}"`, name);
  return Number(raw);
}

/** Reads the witness configuration from the environment (the policy file through `readFile`). */
export async function loadWitnessingConfig(
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => Uint8Array = (p) => readFileSync(p),
): Promise<WitnessingConfig> {
  const timeoutMs = positiveInt(env, "KAKUNIN_WITNESS_TIMEOUT_MS", DEFAULT_WITNESS_TIMEOUT_MS, 600_000);
  const list = env.KAKUNIN_WITNESSES?.trim();
  const policyFile = env.KAKUNIN_WITNESS_POLICY?.trim();
  if (list && policyFile)
    throw new WitnessConfigError("give KAKUNIN_WITNESSES or KAKUNIN_WITNESS_POLICY, not both", "KAKUNIN_WITNESSES");
  if (policyFile) return { ...(await fromPolicy(policyFile, readFile)), timeoutMs, source: "KAKUNIN_WITNESS_POLICY" };
  if (!list) {
    if (env.KAKUNIN_WITNESS_QUORUM)
      throw new WitnessConfigError(
        "KAKUNIN_WITNESS_QUORUM is set but KAKUNIN_WITNESSES is not",
        "KAKUNIN_WITNESS_QUORUM",
      );
    return { witnesses: [], quorum: { kind: "none" }, timeoutMs, source: "none" };
  }
  const witnesses = await parseWitnessList(list);
  if (witnesses.length === 0) throw new WitnessConfigError("KAKUNIN_WITNESSES names no witness", "KAKUNIN_WITNESSES");
  const k = positiveInt(env, "KAKUNIN_WITNESS_QUORUM", witnesses.length, witnesses.length);
  const quorum: QuorumRule = {
    kind: "group",
    name: "KAKUNIN_WITNESSES",
    threshold: k,
    members: witnesses.map((w) => ({ kind: "witness", name: w.name })),
  };
  return { witnesses, quorum, timeoutMs, source: "KAKUNIN_WITNESSES" };
}

async function fromPolicy(
  path: string,
  readFile: (path: string) => Uint8Array,
): Promise<{ witnesses: WitnessEndpoint[]; quorum: QuorumRule }> {
  let bytes: Uint8Array;
  try {
    bytes = readFile(path);
  } catch (e) {
    throw new WitnessConfigError(
      `KAKUNIN_WITNESS_POLICY ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      "KAKUNIN_WITNESS_POLICY",
    );
  }
  let policy;
  try {
    policy = await parsePolicy(bytes);
  } catch (e) {
    const err = e as Error & { line?: number; field?: string };
    throw new WitnessConfigError(`KAKUNIN_WITNESS_POLICY ${path}: ${err.message}`, err.field ?? "policy", err.line);
  }
  const witnesses: WitnessEndpoint[] = [];
  for (const w of policy.witnesses) {
    if (w.url === undefined) continue; // verification-only witnesses: the log does not contact them
    const where = `KAKUNIN_WITNESS_POLICY ${path} line ${w.line}`;
    witnesses.push({ name: w.name, vkey: w.vkey, key: w.key, url: submissionUrl(w.url, where) });
  }
  if (witnesses.length === 0 && policy.quorum.kind !== "none") {
    throw new WitnessConfigError(
      `KAKUNIN_WITNESS_POLICY ${path}: no witness line has a submission URL, so the quorum can never be met`,
      "url",
    );
  }
  return { witnesses, quorum: policy.quorum };
}
