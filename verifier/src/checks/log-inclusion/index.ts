/**
 * The log v2 part of a `kakunin-receipt/2`: the tlog proof puts this very entry (its leaf hash,
 * FORMATS.md "Merkle tree leaves") at index `seq` of the checkpoint's tree; the checkpoint's origin
 * is `<log name>/<the entry's issuer>`; a pinned log key signed the checkpoint note; with a policy,
 * the note carries the quorum of valid witness cosignatures. Each part is one report step.
 */
import { VerificationError } from "../../errors.js";
import { base64Encode } from "../../formats/bytes.js";
import { parseCheckpoint, type TlogCheckpoint } from "../../formats/checkpoint.js";
import { entryLeafHash } from "../../formats/leaf.js";
import { openNote, parseNote, type Note } from "../../formats/note.js";
import { verifyInclusion } from "../../formats/proof-verify.js";
import { parseTlogProof } from "../../formats/tlog-proof.js";
import type { Json } from "../../parse/fields.js";
import type { ReportLog } from "../../report.js";
import type { VerifiedInclusion } from "../../timestamp/poe-types.js";
import { evaluateWitnessQuorum } from "../../trust/witness-quorum.js";
import { anyLogKeyPinned, pinnedLogKeys, type TrustMaterial } from "../../trust/material.js";
import { failed, indeterminate, type CheckProblem } from "../problem.js";

/** One step's outcome: its problems, or the detail shown when it passed. */
export interface StepOutcome {
  problems: CheckProblem[];
  detail: string;
}

export interface LogInclusionResult {
  inclusion: StepOutcome;
  /** Absent when the proof could not be read (nothing to check a signature on). */
  signature?: StepOutcome;
  /** Present with a policy. */
  witnesses?: StepOutcome;
  /** What the report shows. Absent when the proof could not be read. */
  log?: ReportLog;
  /** The checkpoint's note text (what the log and the TSAs signed). */
  checkpointText?: string;
  /** Set only when the inclusion proof verified against the checkpoint's root. */
  verified?: VerifiedInclusion;
}

const err = (code: "ERR_INCLUSION" | "ERR_LOG_SIGNATURE", message: string, seq: number) =>
  failed(new VerificationError(code, message, { seq, field: "proof" }));

/** Checks the `proof` member of a v2 receipt whose entry is `entry` (already parsed: seq, issuer). */
export async function checkLogInclusion(
  entry: Json,
  seq: number,
  issuer: string,
  proofText: string,
  trust: TrustMaterial,
  now: Date,
): Promise<LogInclusionResult> {
  let note: Note;
  let cp: TlogCheckpoint;
  let index: number;
  let hashes: Uint8Array[];
  let noteText: string;
  try {
    const p = parseTlogProof(proofText);
    note = parseNote(p.checkpoint);
    cp = parseCheckpoint(note.text);
    ({ index, proof: hashes } = p);
    noteText = p.checkpoint;
  } catch (e) {
    return {
      inclusion: {
        problems: [err("ERR_INCLUSION", `the tlog proof is unreadable: ${(e as Error).message}`, seq)],
        detail: "",
      },
    };
  }
  const log: ReportLog = {
    origin: cp.origin,
    size: cp.size,
    root: base64Encode(cp.root),
    index,
    signatures: note.signatures.map((s) => s.name),
  };

  // Inclusion: this entry's leaf, at its own seq, under the checkpoint's root.
  const inc: CheckProblem[] = [];
  let verified: VerifiedInclusion | undefined;
  if (index !== seq) inc.push(err("ERR_INCLUSION", `the proof is for leaf ${index}, the entry's seq is ${seq}`, seq));
  else {
    try {
      await verifyInclusion(index, cp.size, await entryLeafHash(entry), hashes, cp.root);
      verified = { leafIndex: index, treeSize: cp.size, rootHash: cp.root };
    } catch (e) {
      inc.push(
        err("ERR_INCLUSION", `the entry is not leaf ${index} of the checkpoint's tree: ${(e as Error).message}`, seq),
      );
    }
  }
  const slash = cp.origin.lastIndexOf("/");
  if (slash <= 0 || cp.origin.slice(slash + 1) !== issuer)
    inc.push(err("ERR_INCLUSION", `checkpoint origin "${cp.origin}" is not <log name>/${issuer}`, seq));
  const inclusion = {
    problems: inc,
    detail: `leaf ${index} of the tree of size ${cp.size} (root ${log.root}) is this entry; origin ${cp.origin}`,
  };

  // The log's signature, against pinned keys only.
  const keys = pinnedLogKeys(trust, cp.origin);
  let signature: StepOutcome;
  if (keys.length === 0 && !anyLogKeyPinned(trust)) {
    signature = {
      problems: [
        indeterminate(
          new VerificationError(
            "ERR_LOG_KEY_NOT_PINNED",
            `no log key is pinned (--log-key or --policy): the checkpoint of "${cp.origin}" and the entry's inclusion in it are unverified`,
            { seq, field: "proof" },
          ),
        ),
      ],
      detail: "",
    };
  } else if (keys.length === 0) {
    signature = {
      problems: [err("ERR_LOG_SIGNATURE", `no pinned log key is for origin "${cp.origin}": not a log you trust`, seq)],
      detail: "",
    };
  } else {
    try {
      const opened = await openNote(noteText, keys);
      log.logSignedBy = opened.verified.map((s) => `${s.name}+${s.keyId.toString(16).padStart(8, "0")}`);
      signature = { problems: [], detail: `checkpoint signed by the pinned log key ${log.logSignedBy.join(", ")}` };
    } catch (e) {
      signature = { problems: [err("ERR_LOG_SIGNATURE", `checkpoint: ${(e as Error).message}`, seq)], detail: "" };
    }
  }

  // Witnesses, with a policy.
  let witnesses: StepOutcome | undefined;
  if (trust.policy) {
    const q = await evaluateWitnessQuorum(noteText, trust.policy, {
      ...(trust.logKeys ? { logKeys: trust.logKeys } : {}),
      now: Math.floor(now.getTime() / 1000),
    });
    log.witnesses = q.witnesses.map((w) => ({
      name: w.name,
      status: w.status,
      ...(w.timestamp !== undefined ? { time: new Date(w.timestamp * 1000).toISOString() } : {}),
    }));
    log.quorumMet = q.quorumMet;
    const wp: CheckProblem[] = [];
    if (q.invalid.length)
      wp.push(
        failed(
          new VerificationError("ERR_COSIGNATURE", `a pinned witness's cosignature does not verify: ${q.summary}`, {
            seq,
            field: "proof",
          }),
        ),
      );
    else if (!q.quorumMet)
      wp.push(
        indeterminate(
          new VerificationError("ERR_WITNESS_QUORUM", `${q.summary}; missing: ${q.missing.join(", ") || "none"}`, {
            seq,
            field: "proof",
          }),
        ),
      );
    witnesses = { problems: wp, detail: q.summary };
  }
  return {
    inclusion,
    signature,
    ...(witnesses ? { witnesses } : {}),
    log,
    checkpointText: note.text,
    ...(verified ? { verified } : {}),
  };
}
