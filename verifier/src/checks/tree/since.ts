/**
 * `--since OLD`: a signed checkpoint the auditor kept from before. It is usable only if a pinned
 * log key named after its origin signed it (a note nobody can attribute to the log proves
 * nothing); the export then extends it when the tree its entries give has OLD's root at OLD's
 * size. A mismatch is evidence of a split view: both signed notes, in the format of
 * `kakunin-verify consistency` (trust/split-view.ts).
 */
import { VerificationError } from "../../errors.js";
import { parseCheckpoint } from "../../formats/checkpoint.js";
import { openNote, parseNote } from "../../formats/note.js";
import { formatSplitViewEvidence, type SignedCheckpoint } from "../../trust/split-view.js";
import { pinnedLogKeys } from "../../trust/material.js";
import type { LogTrust } from "./note-trust.js";

/**
 * Opens the auditor's old checkpoint: ERR_TREE_UNCHECKED when it is not a signed checkpoint note
 * or no pinned log key named after its origin signed it (the message says which).
 */
export async function openSinceCheckpoint(note: string, trust: LogTrust): Promise<SignedCheckpoint> {
  let checkpoint;
  try {
    checkpoint = parseCheckpoint(parseNote(note).text);
  } catch (e) {
    throw new VerificationError("ERR_TREE_UNCHECKED", `the --since checkpoint: ${(e as Error).message}`, {
      field: "since",
    });
  }
  const keys = pinnedLogKeys(trust, checkpoint.origin);
  if (keys.length === 0)
    throw new VerificationError(
      "ERR_TREE_UNCHECKED",
      `the --since checkpoint: no pinned log key is named after its origin "${checkpoint.origin}" (--log-key or --policy)`,
      { field: "since" },
    );
  try {
    await openNote(note, keys);
  } catch (e) {
    throw new VerificationError("ERR_TREE_UNCHECKED", `the --since checkpoint: ${(e as Error).message}`, {
      field: "since",
    });
  }
  return { note, checkpoint };
}

/**
 * The split-view evidence when the export does not extend OLD: OLD and the newest tree checkpoint
 * of the export that the log signed and that matches the export's entries (smaller size first).
 */
export function sinceEvidence(detail: string, old: SignedCheckpoint, newer: SignedCheckpoint): string {
  const [a, b] = old.checkpoint.size <= newer.checkpoint.size ? [old, newer] : [newer, old];
  return formatSplitViewEvidence(old.checkpoint.origin, detail, a, b);
}
