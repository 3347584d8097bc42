/**
 * Stored checkpoint notes as {@link SignedCheckpoint}s, and the rule for adding cosignatures: the
 * replacement has the same body and keeps every signature line the stored note has, the log's first.
 */
import { parseCheckpoint, parseNote } from "../../../verifier/src/formats/index.js";
import type { SignedCheckpoint } from "./checkpoint-hooks.js";

/** A stored note is not a valid checkpoint, or a replacement drops or changes what is stored. */
export class CheckpointNoteError extends Error {
  readonly code = "ERR_CHECKPOINT_NOTE";
}

/** The checkpoint a stored signed note carries. */
export function signedCheckpointFromNote(issuerId: string, note: string): SignedCheckpoint {
  const { text } = parseNote(note);
  const cp = parseCheckpoint(text);
  return { issuerId, origin: cp.origin, size: cp.size, rootHash: cp.root, body: text, note };
}

/** The signature lines of a note, in order. */
function signatureLines(note: string): string[] {
  const { text } = parseNote(note);
  return note.slice(text.length + 1, -1).split("\n");
}

/** Throws unless `next` has the body of `stored` and every one of its signature lines (the first stays first). */
export function assertCosignedSuperset(stored: string, next: string): void {
  let a: string[];
  let b: string[];
  try {
    if (parseNote(stored).text !== parseNote(next).text)
      throw new CheckpointNoteError("the note's body differs from the stored checkpoint");
    a = signatureLines(stored);
    b = signatureLines(next);
  } catch (e) {
    if (e instanceof CheckpointNoteError) throw e;
    throw new CheckpointNoteError(`not a signed note: ${(e as Error).message}`);
  }
  if (b[0] !== a[0]) throw new CheckpointNoteError("the log's signature must stay the first line");
  const have = new Set(b);
  const missing = a.filter((l) => !have.has(l));
  if (missing.length > 0) throw new CheckpointNoteError(`the note drops ${missing.length} stored signature line(s)`);
  if (have.size !== b.length) throw new CheckpointNoteError("the note repeats a signature line");
}
