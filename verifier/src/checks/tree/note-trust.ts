/**
 * Judges a signed-note checkpoint of an export against the pinned log v2 trust (the receipt's
 * rules, checks/log-inclusion): a pinned log key named after its origin signed it (ERR_LOG_SIGNATURE
 * otherwise; no log key pinned at all: not judged), and with a policy its witness cosignatures
 * (a bad line of a pinned witness: ERR_COSIGNATURE; the quorum: ERR_WITNESS_QUORUM, judged by the caller).
 */
import { VerificationError } from "../../errors.js";
import { openNote } from "../../formats/note.js";
import { evaluateWitnessQuorum, type QuorumEvaluation } from "../../trust/witness-quorum.js";
import { anyLogKeyPinned, pinnedLogKeys, type TrustMaterial } from "../../trust/material.js";
import { failed, type CheckProblem } from "../problem.js";

/** The log v2 part of the trust material (no CA needed here). */
export type LogTrust = Pick<TrustMaterial, "logKeys" | "policy">;

/** What a checkpoint's signatures showed. */
export interface NoteTrust {
  /** verified: a pinned log key signed it; failed: none did; not-pinned: no log key is pinned at all. */
  log: "verified" | "failed" | "not-pinned";
  /** `<name>+<hex id>` of the pinned keys whose signature verified. */
  signedBy: string[];
  problems: CheckProblem[];
  /** With a policy. */
  quorum?: QuorumEvaluation;
}

/** Whether any log v2 trust is pinned (a log key, or a policy's log lines). */
export function logTrustPinned(t: LogTrust): boolean {
  return anyLogKeyPinned(t);
}

/** Checks `note` (origin `origin`) against `trust`; `where` locates the problems (e.g. "line 12"). */
export async function judgeNote(note: string, origin: string, trust: LogTrust, where: string): Promise<NoteTrust> {
  if (!anyLogKeyPinned(trust)) return { log: "not-pinned", signedBy: [], problems: [] };
  const problems: CheckProblem[] = [];
  const keys = pinnedLogKeys(trust, origin);
  let log: NoteTrust["log"] = "failed";
  let signedBy: string[] = [];
  if (keys.length === 0) {
    problems.push(
      failed(
        new VerificationError(
          "ERR_LOG_SIGNATURE",
          `${where}: no pinned log key is for origin "${origin}": not a log you trust`,
          { field: "note" },
        ),
      ),
    );
  } else {
    try {
      const opened = await openNote(note, keys);
      signedBy = opened.verified.map((s) => `${s.name}+${s.keyId.toString(16).padStart(8, "0")}`);
      log = "verified";
    } catch (e) {
      problems.push(
        failed(new VerificationError("ERR_LOG_SIGNATURE", `${where}: ${(e as Error).message}`, { field: "note" })),
      );
    }
  }
  let quorum: QuorumEvaluation | undefined;
  if (trust.policy) {
    quorum = await evaluateWitnessQuorum(note, trust.policy, trust.logKeys ? { logKeys: trust.logKeys } : {});
    if (quorum.invalid.length)
      problems.push(
        failed(
          new VerificationError(
            "ERR_COSIGNATURE",
            `${where}: a pinned witness's cosignature does not verify: ${quorum.summary}`,
            { field: "note" },
          ),
        ),
      );
  }
  return { log, signedBy, problems, ...(quorum ? { quorum } : {}) };
}
