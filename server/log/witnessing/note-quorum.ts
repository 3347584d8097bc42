/**
 * Which configured witnesses have cosigned a stored checkpoint note, and whether that meets the
 * quorum — read from the note itself (each witness's line verified against its pinned key), so every
 * instance, after any restart, says the same thing about the same note. Serves the
 * `kakunin-witness-quorum` header of the checkpoint route.
 */
import {
  parseNote,
  quorumSatisfied,
  verifyCosignatures,
  type QuorumRule,
} from "../../../verifier/src/formats/index.js";
import type { WitnessEndpoint } from "./endpoint.js";

export interface NoteQuorum {
  met: boolean;
  /** Endpoint names whose cosignature line verifies, in configuration order. */
  cosigned: string[];
  /** Endpoint names without a verifying line. */
  missing: string[];
}

/** Undefined when no witness is configured (nothing to say). Never throws on a malformed line: that witness is missing. */
export async function noteQuorum(
  note: string,
  witnesses: readonly WitnessEndpoint[],
  quorum: QuorumRule,
): Promise<NoteQuorum | undefined> {
  if (witnesses.length === 0) return undefined;
  const { text, signatures } = parseNote(note);
  const cosigned: string[] = [];
  const missing: string[] = [];
  for (const w of witnesses) {
    const lines = signatures.filter((s) => s.name === w.key.name && s.keyId === w.key.keyId);
    let ok = false;
    if (lines.length > 0) {
      try {
        ok = (await verifyCosignatures(text, lines, [w.key])).some((c) => c.timestamp > 0);
      } catch {
        ok = false;
      }
    }
    (ok ? cosigned : missing).push(w.name);
  }
  return { met: quorumSatisfied(quorum, new Set(cosigned)), cosigned, missing };
}

/** `met; cosigned=w1,w2` or `missing; cosigned=w1; missing=w2`; names percent-encoded (a header is ASCII, and ',' ';' separate). */
export function quorumHeader(q: NoteQuorum): string {
  const list = (names: string[]) => names.map(encodeURIComponent).join(",");
  const parts = [q.met ? "met" : "missing", `cosigned=${list(q.cosigned)}`];
  if (q.missing.length > 0) parts.push(`missing=${list(q.missing)}`);
  return parts.join("; ");
}
