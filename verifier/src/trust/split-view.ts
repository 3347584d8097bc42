/**
 * Split-view detection: two checkpoints of one origin, both signed by the log, either describe one
 * append-only history or they are evidence that the log showed two. Pure; the evidence text carries
 * both signed notes byte for byte so anyone can check it again with the log's key.
 */
import { parseCheckpoint, type TlogCheckpoint } from "../formats/checkpoint.js";
import { VerificationError } from "../formats/errors.js";
import { bytesEqual } from "../formats/bytes.js";
import { emptyRoot } from "../formats/merkle.js";
import { openNote, parseNote, type NoteVerifierKey } from "../formats/note.js";
import { verifyConsistency } from "../formats/proof-verify.js";
import { base64Encode } from "../formats/bytes.js";

/**
 * Why two checkpoints are not shown to be one history. `different-roots` (one size, two roots) and
 * `empty-tree-root` (a size-0 checkpoint whose root is not the empty tree's) are conclusive: the
 * log signed contradictory statements. `proof-invalid` and `proof-missing` only say consistency was
 * not shown (a proof from an untrusted source may simply be wrong).
 */
export type SplitViewReason = "different-roots" | "empty-tree-root" | "proof-invalid" | "proof-missing";

/** The outcome of {@link checkSplitView}: the two checkpoints ordered by size (the smaller first). */
export type SplitViewResult =
  | { consistent: true; origin: string; older: SignedCheckpoint; newer: SignedCheckpoint; detail: string }
  | {
      consistent: false;
      origin: string;
      older: SignedCheckpoint;
      newer: SignedCheckpoint;
      reason: SplitViewReason;
      conclusive: boolean;
      detail: string;
      evidence: string;
    };

/** A checkpoint with the exact note it came in. */
export interface SignedCheckpoint {
  note: string;
  checkpoint: TlogCheckpoint;
}

async function open(note: string, logKeys: readonly NoteVerifierKey[], which: string): Promise<SignedCheckpoint> {
  let checkpoint: TlogCheckpoint;
  try {
    checkpoint = parseCheckpoint(parseNote(note).text);
  } catch (e) {
    throw new VerificationError("ERR_NOTE_FORMAT", `${which} checkpoint: ${(e as Error).message}`, { field: which });
  }
  // tlog-checkpoint: the log's key is named after the origin; another log's key proves nothing here.
  const keys = logKeys.filter((k) => k.name === checkpoint.origin);
  if (keys.length === 0)
    throw new VerificationError(
      "ERR_NOTE_SIGNATURE",
      `${which} checkpoint: no pinned log key is named after its origin "${checkpoint.origin}"`,
      { field: which },
    );
  try {
    await openNote(note, keys);
  } catch (e) {
    throw new VerificationError("ERR_NOTE_SIGNATURE", `${which} checkpoint: ${(e as Error).message}`, { field: which });
  }
  return { note, checkpoint };
}

/**
 * Decides whether two signed checkpoints of one origin are consistent. Both must verify under the
 * pinned log keys (a note nobody can attribute to the log is not evidence): NoteSignatureError or
 * NoteFormatError otherwise, and NoteFormatError if their origins differ. `proof` is the RFC 9162
 * consistency proof from the smaller size to the larger (needed unless the sizes are equal or the
 * smaller is 0).
 */
export async function checkSplitView(
  noteA: string,
  noteB: string,
  logKeys: readonly NoteVerifierKey[],
  proof?: readonly Uint8Array[],
): Promise<SplitViewResult> {
  const a = await open(noteA, logKeys, "first");
  const b = await open(noteB, logKeys, "second");
  if (a.checkpoint.origin !== b.checkpoint.origin) {
    throw new VerificationError(
      "ERR_NOTE_FORMAT",
      `the checkpoints are of two origins ("${a.checkpoint.origin}", "${b.checkpoint.origin}")`,
      { field: "origin" },
    );
  }
  const [older, newer] = a.checkpoint.size <= b.checkpoint.size ? [a, b] : [b, a];
  const origin = older.checkpoint.origin;
  const s1 = older.checkpoint.size;
  const s2 = newer.checkpoint.size;
  const fail = (reason: SplitViewReason, conclusive: boolean, detail: string): SplitViewResult => ({
    consistent: false,
    origin,
    older,
    newer,
    reason,
    conclusive,
    detail,
    evidence: formatSplitViewEvidence(origin, detail, older, newer, proof),
  });

  const empty = await emptyRoot();
  for (const c of [older, newer]) {
    if (c.checkpoint.size === 0 && !bytesEqual(c.checkpoint.root, empty)) {
      return fail("empty-tree-root", true, `the log signed a checkpoint of size 0 whose root is not the empty tree's`);
    }
  }
  if (s1 === s2) {
    if (bytesEqual(older.checkpoint.root, newer.checkpoint.root)) {
      return { consistent: true, origin, older, newer, detail: `both checkpoints have size ${s1} and the same root` };
    }
    return fail("different-roots", true, `the log showed two histories: two different roots at size ${s1}`);
  }
  if (s1 === 0)
    return { consistent: true, origin, older, newer, detail: "the empty tree is consistent with every tree" };
  if (!proof) return fail("proof-missing", false, `no consistency proof from size ${s1} to size ${s2} was given`);
  try {
    await verifyConsistency(s1, s2, older.checkpoint.root, newer.checkpoint.root, proof);
  } catch (e) {
    return fail(
      "proof-invalid",
      false,
      `the consistency proof from size ${s1} to size ${s2} does not verify: ${(e as Error).message}`,
    );
  }
  return {
    consistent: true,
    origin,
    older,
    newer,
    detail: `size ${s2} extends size ${s1} (consistency proof verified)`,
  };
}

/**
 * The evidence text: a header, then each signed note verbatim (with its final newline) after a marker
 * line giving its length in UTF-16 code units, so a tool can cut it out exactly; then the proof if any.
 */
export function formatSplitViewEvidence(
  origin: string,
  detail: string,
  older: SignedCheckpoint,
  newer: SignedCheckpoint,
  proof?: readonly Uint8Array[],
): string {
  let out = `kakunin split-view evidence\norigin: ${origin}\nfinding: ${detail}\n\n`;
  out += `----- checkpoint 1: size ${older.checkpoint.size}, ${older.note.length} characters -----\n${older.note}`;
  out += `----- checkpoint 2: size ${newer.checkpoint.size}, ${newer.note.length} characters -----\n${newer.note}`;
  if (proof) {
    out += `----- consistency proof ${older.checkpoint.size} -> ${newer.checkpoint.size}: ${proof.length} hashes -----\n`;
    for (const h of proof) out += `${base64Encode(h)}\n`;
  }
  return `${out}----- end -----\n`;
}
