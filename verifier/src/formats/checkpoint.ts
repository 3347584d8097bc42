/** C2SP tlog-checkpoint note text: origin, tree size, base64 root hash, optional extension lines. */
import type { Bytes } from "./bytes.js";
import { base64Decode, base64Encode } from "./bytes.js";
import { VerificationError } from "./errors.js";
import { HASH_SIZE } from "./merkle.js";

/** A checkpoint body (c2sp.org/tlog-checkpoint; not the v1 JSON `Checkpoint` of wire.ts). */
export interface TlogCheckpoint {
  origin: string;
  size: number;
  root: Bytes;
  extensions: string[];
}

/** Formats the note text of a checkpoint (ends in a newline). */
export function formatCheckpoint(c: TlogCheckpoint): string {
  if (c.origin === "" || c.origin.includes("\n"))
    throw new VerificationError("ERR_NOTE_FORMAT", "origin must be one non-empty line", { field: "origin" });
  if (!Number.isSafeInteger(c.size) || c.size < 0)
    throw new VerificationError("ERR_NOTE_FORMAT", "size must be a non-negative integer", { field: "size" });
  if (c.root.length !== HASH_SIZE)
    throw new VerificationError("ERR_NOTE_FORMAT", "root must be 32 bytes", { field: "root" });
  for (const e of c.extensions)
    if (e === "" || e.includes("\n"))
      throw new VerificationError("ERR_NOTE_FORMAT", "extension lines must be non-empty single lines", {
        field: "extensions",
      });
  return [c.origin, String(c.size), base64Encode(c.root), ...c.extensions].map((l) => `${l}\n`).join("");
}

/** Parses checkpoint note text (as returned by openNote). Throws NoteFormatError on any deviation. */
export function parseCheckpoint(text: string): TlogCheckpoint {
  if (!text.endsWith("\n")) throw new VerificationError("ERR_NOTE_FORMAT", "checkpoint text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new VerificationError("ERR_NOTE_FORMAT", "checkpoint needs origin, size and root lines");
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === "") throw new VerificationError("ERR_NOTE_FORMAT", "origin is empty", { field: "origin" });
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine))
    throw new VerificationError("ERR_NOTE_FORMAT", "size must be decimal without leading zeroes", { field: "size" });
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size))
    throw new VerificationError("ERR_NOTE_FORMAT", "size is too large", { field: "size" });
  const root = base64Decode(rootLine, "root");
  if (root.length !== HASH_SIZE || base64Encode(root) !== rootLine)
    throw new VerificationError("ERR_NOTE_FORMAT", "root must be canonical base64 of 32 bytes", { field: "root" });
  if (extensions.some((e) => e === ""))
    throw new VerificationError("ERR_NOTE_FORMAT", "extension lines must be non-empty", { field: "extensions" });
  return { origin, size, root, extensions };
}
