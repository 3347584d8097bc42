/** A witness the log submits checkpoints to: a name, its pinned cosigner verifier key, and its submission prefix. */
import type { NoteVerifierKey } from "../../../verifier/src/formats/index.js";

export interface WitnessEndpoint {
  /** Local name (outcomes, quorum rules); the policy-file name when configured from a policy. */
  name: string;
  /** The cosigner verifier key `<key name>+<hex id>+base64(0x04 ‖ Ed25519 key)`; also the state key. */
  vkey: string;
  /** `vkey` parsed: only cosignature lines of this (name, key ID) are accepted from the witness. */
  key: NoteVerifierKey;
  /** The tlog-witness submission prefix, without a trailing '/'; add-checkpoint is `<url>/add-checkpoint`. */
  url: string;
}
