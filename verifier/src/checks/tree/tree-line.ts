/**
 * A `tree-checkpoint` line of an export (FORMATS.md "Export"): `{"kind":"tree-checkpoint","note":…}`
 * with the log's signed-note checkpoint verbatim (every signature line). Attacker-controlled: a
 * line that is not that shape is ERR_MALFORMED naming the field.
 */
import { malformed } from "../../errors.js";
import { parseCheckpoint, type TlogCheckpoint } from "../../formats/checkpoint.js";
import { parseNote, type Note } from "../../formats/note.js";
import type { Json } from "../../parse/fields.js";

/** The export line kind. */
export const TREE_CHECKPOINT_KIND = "tree-checkpoint";

/** A readable tree-checkpoint line. */
export interface TreeCheckpointLine {
  /** The signed note, exactly as in the line. */
  note: string;
  parsed: Note;
  checkpoint: TlogCheckpoint;
}

/** Parses a tree-checkpoint line's members; throws ERR_MALFORMED (field `note`) otherwise. */
export function parseTreeCheckpointLine(v: Json): TreeCheckpointLine {
  const extra = Object.keys(v).filter((k) => k !== "kind" && k !== "note");
  if (extra.length) throw malformed(`tree-checkpoint line has an unknown member "${extra[0]}"`, { field: extra[0]! });
  if (typeof v.note !== "string") throw malformed("tree-checkpoint line needs a string note", { field: "note" });
  try {
    const parsed = parseNote(v.note);
    return { note: v.note, parsed, checkpoint: parseCheckpoint(parsed.text) };
  } catch (e) {
    throw malformed(`tree-checkpoint note: ${(e as Error).message}`, { field: "note" });
  }
}
