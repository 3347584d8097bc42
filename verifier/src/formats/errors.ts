/** Typed errors of the log v2 formats (signed notes, checkpoints, proofs, tiles). Codes never change. */
import { KakuninError } from "../errors.js";

/** A Merkle inclusion or consistency proof does not verify (or its sizes/hashes are malformed). */
export class ProofError extends KakuninError {
  static override code = "ERR_PROOF";
  override code = "ERR_PROOF";
}
/** A signed note, checkpoint, verifier key or tile path is not byte-exact to its C2SP spec. */
export class NoteFormatError extends KakuninError {
  static override code = "ERR_NOTE_FORMAT";
  override code = "ERR_NOTE_FORMAT";
}
/** A signature from a known key failed, or no known key signed the note. */
export class NoteSignatureError extends KakuninError {
  static override code = "ERR_NOTE_SIGNATURE";
  override code = "ERR_NOTE_SIGNATURE";
}
