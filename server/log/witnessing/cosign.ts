/**
 * The log side of witnessing: a new signed checkpoint goes to every configured witness in parallel,
 * each under its own deadline; verified cosignatures are merged into the note. Witness outages are
 * outcomes, never exceptions, and the call is bounded by the deadline — the appender never waits on it
 * (it runs after publication, and a checkpoint that misses its quorum is published anyway, flagged).
 */
import {
  parseCheckpoint,
  parseNote,
  quorumSatisfied,
  type TlogCheckpoint,
  type QuorumRule,
} from "../../../verifier/src/formats/index.js";
import type { WitnessEndpoint } from "./endpoint.js";
import { mergeCosignatures } from "./merge.js";
import type { WitnessOutcome } from "./outcome.js";
import type { CosignedSizes } from "./state.js";
import { submitToWitness, type ConsistencyProofs } from "./submit.js";

/** Everything one round of cosigning needs. */
export interface CosignRequest {
  /** The signed checkpoint note (the log's own signature lines). */
  note: string;
  witnesses: readonly WitnessEndpoint[];
  state: CosignedSizes;
  proofs: ConsistencyProofs;
  /** Per-witness deadline, ms (both requests of a 409 resync included). */
  timeoutMs: number;
  /** When given, the result says whether the cosigning witnesses (by endpoint name) satisfy it. */
  quorum?: QuorumRule;
  signal?: AbortSignal;
}

/** The round's result: one outcome per witness (in configuration order) and the merged note. */
export interface CosignResult {
  checkpoint: TlogCheckpoint;
  /** The note with every verified cosignature appended (the input note if none). */
  note: string;
  outcomes: WitnessOutcome[];
  /** Endpoint names that cosigned. */
  cosigned: string[];
  /** Whether `quorum` is met; undefined without one. */
  quorumMet?: boolean;
}

/** A checkpoint note the log itself produced is malformed: the caller's bug, not a witness outage. */
export class CheckpointNoteError extends Error {
  readonly code = "ERR_CHECKPOINT_NOTE";
}

/**
 * Runs one cosigning round. Rejects only with CheckpointNoteError (the log's own note is not a signed
 * checkpoint); every witness problem is in `outcomes`.
 */
export async function cosignCheckpoint(req: CosignRequest): Promise<CosignResult> {
  let checkpoint: TlogCheckpoint;
  let text: string;
  try {
    text = parseNote(req.note).text;
    checkpoint = parseCheckpoint(text);
  } catch (e) {
    throw new CheckpointNoteError(`the checkpoint to cosign is not a signed checkpoint note: ${(e as Error).message}`);
  }
  const outcomes = await Promise.all(
    req.witnesses.map((w) =>
      submitToWitness(w, {
        note: req.note,
        checkpoint,
        text,
        state: req.state,
        proofs: req.proofs,
        timeoutMs: req.timeoutMs,
        ...(req.signal ? { signal: req.signal } : {}),
      })
        // submitToWitness never rejects; this keeps a bug in it from becoming the caller's exception.
        .catch((e: unknown): WitnessOutcome => ({
          kind: "log-error",
          detail: `internal: ${(e as Error).message}`,
          witness: w.name,
          vkey: w.vkey,
          url: w.url,
          oldSize: 0,
          resynced: false,
          ms: 0,
        })),
    ),
  );
  const lines = outcomes.flatMap((o) => (o.kind === "cosigned" ? o.lines : []));
  const merged = mergeCosignatures(req.note, lines);
  const cosigned = outcomes.filter((o) => o.kind === "cosigned").map((o) => o.witness);
  return {
    checkpoint,
    note: merged.note,
    outcomes,
    cosigned,
    ...(req.quorum ? { quorumMet: quorumSatisfied(req.quorum, new Set(cosigned)) } : {}),
  };
}
