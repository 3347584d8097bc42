/**
 * Adds verified cosignature lines to a signed checkpoint note, following signed-note: the note's own
 * lines stay first and in order, new lines follow in the order given, and a (key name, key ID) that
 * already signed is never added twice — so the result opens with any note verifier.
 */
import { formatNote, MAX_NOTE_SIGNATURES, parseNote } from "../../../verifier/src/formats/index.js";

/** The merged note, and the lines left out (a key that already signed, or over the signature cap). */
export interface MergedNote {
  note: string;
  added: number;
  skipped: string[];
}

/** Merges `lines` (each one `— <name> <base64>\n`) into `note`. Throws only if `note` or a line is malformed. */
export function mergeCosignatures(note: string, lines: readonly string[]): MergedNote {
  const parsed = parseNote(note);
  const signatures = [...parsed.signatures];
  const skipped: string[] = [];
  let added = 0;
  for (const line of lines) {
    const [sig, ...more] = parseNote(`${parsed.text}\n${line}`).signatures;
    if (!sig || more.length) throw new RangeError("each cosignature must be one signature line");
    if (
      signatures.some((s) => s.name === sig.name && s.keyId === sig.keyId) ||
      signatures.length >= MAX_NOTE_SIGNATURES
    ) {
      skipped.push(line);
      continue;
    }
    signatures.push(sig);
    added++;
  }
  return { note: formatNote({ text: parsed.text, signatures }), added, skipped };
}
