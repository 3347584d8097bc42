/**
 * Evaluates a cosigned checkpoint against a tlog-policy: which log signature verified, which witness
 * cosignatures (tlog-cosignature/v1, Ed25519) verified, and whether the quorum is met. Pure: the
 * caller turns an unmet quorum into its verdict (INDETERMINATE ERR_WITNESS_QUORUM).
 */
import { parseCheckpoint, type TlogCheckpoint } from "../formats/checkpoint.js";
import { verifyCosignatures } from "../formats/cosignature.js";
import { openNote, parseNote, type NoteVerifierKey } from "../formats/note.js";
import { policyLogKeys, type QuorumRule, type TrustPolicy } from "../formats/policy.js";

/** One policy witness's standing on this checkpoint. */
export interface WitnessStanding {
  /** The policy-local name. */
  name: string;
  /** The cosigner verifier key pinned for it. */
  vkey: string;
  /** cosigned: a line of its key verified; missing: no line of its key; invalid: a line of its key did not verify. */
  status: "cosigned" | "missing" | "invalid";
  /** POSIX seconds of the (first) verified cosignature. */
  timestamp?: number;
  detail?: string;
}

/** A group's standing: how many of its members witnessed the checkpoint, against its threshold. */
export interface GroupStanding {
  name: string;
  threshold: number;
  witnessed: number;
  members: number;
  met: boolean;
}

/** The outcome of {@link evaluateWitnessQuorum}. */
export interface QuorumEvaluation {
  checkpoint: TlogCheckpoint;
  /** The checkpoint's note text (what log and witnesses signed). */
  text: string;
  log: {
    /** verified: a pinned log key's signature verified; invalid: one failed, or none verified; not-pinned: the policy pins no key for this origin. */
    status: "verified" | "invalid" | "not-pinned";
    detail: string;
  };
  witnesses: WitnessStanding[];
  groups: GroupStanding[];
  /** Policy-local names, in policy order. */
  cosigned: string[];
  missing: string[];
  invalid: string[];
  quorumMet: boolean;
  /**
   * The log signature verified, the quorum is met and no pinned witness's line failed (signed-note: a
   * failing signature of a known key should reject the note).
   */
  accepted: boolean;
  /** One sentence naming what is missing, e.g. for an ERR_WITNESS_QUORUM finding. */
  summary: string;
}

/** Options of {@link evaluateWitnessQuorum}. */
export interface QuorumOptions {
  /** Log keys known from elsewhere (tlog-policy allows a policy without log lines); used with the policy's own. */
  logKeys?: readonly NoteVerifierKey[];
  /** With `now` (POSIX seconds): cosignatures dated more than `maxFutureSeconds` (default 300) ahead are invalid. */
  now?: number;
  maxFutureSeconds?: number;
}

/**
 * Evaluates `note` (a signed checkpoint with cosignature lines) against `policy`. Throws
 * NoteFormatError only when the note or checkpoint is malformed; every signature problem is reported
 * in the result.
 */
export async function evaluateWitnessQuorum(
  note: string | Uint8Array,
  policy: TrustPolicy,
  opts: QuorumOptions = {},
): Promise<QuorumEvaluation> {
  const parsed = parseNote(note);
  const checkpoint = parseCheckpoint(parsed.text);
  const text = parsed.text;

  const logKeys = [
    ...policyLogKeys(policy, checkpoint.origin),
    ...(opts.logKeys ?? []).filter((k) => k.name === checkpoint.origin),
  ];
  let log: QuorumEvaluation["log"];
  if (logKeys.length === 0) {
    log = { status: "not-pinned", detail: `no log key is pinned for origin "${checkpoint.origin}"` };
  } else {
    try {
      const opened = await openNote(note, dedupeKeys(logKeys));
      log = { status: "verified", detail: `signed by ${opened.verified.map((s) => s.name).join(", ")}` };
    } catch (e) {
      log = { status: "invalid", detail: (e as Error).message };
    }
  }

  const witnesses: WitnessStanding[] = [];
  for (const w of policy.witnesses) {
    const lines = parsed.signatures.filter((s) => s.name === w.key.name && s.keyId === w.key.keyId);
    if (lines.length === 0) {
      witnesses.push({ name: w.name, vkey: w.vkey, status: "missing" });
      continue;
    }
    try {
      const [first] = await verifyCosignatures(text, lines, [w.key]);
      const future = opts.now !== undefined && first!.timestamp > opts.now + (opts.maxFutureSeconds ?? 300);
      if (future)
        witnesses.push({
          name: w.name,
          vkey: w.vkey,
          status: "invalid",
          timestamp: first!.timestamp,
          detail: `cosignature dated ${first!.timestamp}, in the future`,
        });
      else witnesses.push({ name: w.name, vkey: w.vkey, status: "cosigned", timestamp: first!.timestamp });
    } catch (e) {
      witnesses.push({ name: w.name, vkey: w.vkey, status: "invalid", detail: (e as Error).message });
    }
  }

  const cosignedSet = new Set(witnesses.filter((w) => w.status === "cosigned").map((w) => w.name));
  const groups: GroupStanding[] = [];
  const met = (rule: QuorumRule): boolean => quorumSatisfied(rule, cosignedSet);
  for (const g of policy.groups) {
    const witnessed = g.members.filter(met).length;
    groups.push({
      name: g.name,
      threshold: g.threshold,
      witnessed,
      members: g.members.length,
      met: witnessed >= g.threshold,
    });
  }
  const quorumMet = met(policy.quorum);
  const pick = (s: WitnessStanding["status"]) => witnesses.filter((w) => w.status === s).map((w) => w.name);
  const cosigned = pick("cosigned");
  const missing = pick("missing");
  const invalid = pick("invalid");
  const accepted = log.status === "verified" && quorumMet && invalid.length === 0;
  return {
    checkpoint,
    text,
    log,
    witnesses,
    groups,
    cosigned,
    missing,
    invalid,
    quorumMet,
    accepted,
    summary: summarise(policy.quorum, log, quorumMet, cosigned, missing, invalid, groups),
  };
}

/** Whether the witnesses named in `cosigned` (policy-local names) satisfy `rule`. */
export function quorumSatisfied(rule: QuorumRule, cosigned: ReadonlySet<string>): boolean {
  if (rule.kind === "none") return true;
  if (rule.kind === "witness") return cosigned.has(rule.name);
  return rule.members.filter((m) => quorumSatisfied(m, cosigned)).length >= rule.threshold;
}

function dedupeKeys(keys: NoteVerifierKey[]): NoteVerifierKey[] {
  return keys.filter((k, i) => keys.findIndex((o) => o.name === k.name && o.keyId === k.keyId) === i);
}

function quorumName(rule: QuorumRule): string {
  return rule.kind === "none" ? "none" : rule.name;
}

function summarise(
  quorum: QuorumRule,
  log: QuorumEvaluation["log"],
  quorumMet: boolean,
  cosigned: string[],
  missing: string[],
  invalid: string[],
  groups: GroupStanding[],
): string {
  const parts: string[] = [];
  if (log.status !== "verified")
    parts.push(`log signature ${log.status === "not-pinned" ? "not pinned" : "invalid"}: ${log.detail}`);
  const list = (xs: string[]) => (xs.length ? xs.join(", ") : "none");
  const who = `cosigned by ${list(cosigned)}; missing ${list(missing)}${invalid.length ? `; invalid ${list(invalid)}` : ""}`;
  if (!quorumMet) {
    const short = groups.filter((g) => !g.met).map((g) => `${g.name} has ${g.witnessed} of ${g.threshold}`);
    parts.push(`witness quorum "${quorumName(quorum)}" not met (${who}${short.length ? `; ${short.join(", ")}` : ""})`);
  } else if (invalid.length) {
    parts.push(
      `witness quorum "${quorumName(quorum)}" met, but a pinned witness's cosignature does not verify (${who})`,
    );
  } else {
    parts.push(`witness quorum "${quorumName(quorum)}" met (${who})`);
  }
  return parts.join("; ");
}
