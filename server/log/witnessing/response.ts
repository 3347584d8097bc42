/** Reading a witness's answer: a bounded body, the 200 cosignature lines checked against the pinned key, a short refusal detail. */
import {
  formatCosignatureLine,
  parseNote,
  verifyCosignatures,
  type NoteSignature,
  type NoteVerifierKey,
} from "../../../verifier/src/formats/index.js";

/** Largest answer read: a few signature lines, or a problem document, fit many times over. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** A body over the limit (the stream is cancelled there: a witness cannot make the log buffer without bound). */
export class ResponseTooLargeError extends Error {}

/** Reads at most `max` bytes of the body as UTF-8 (U+FFFD for invalid sequences: the text is only checked, never trusted). */
export async function readBoundedText(res: Response, max = MAX_RESPONSE_BYTES): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(`the answer is over ${max} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

/** The verified cosignature of a 200 answer: its canonical line and timestamp. */
export interface VerifiedCosignature {
  lines: string[];
  timestamp: number;
}

/**
 * Checks a 200 body: one or more note signature lines; lines of other keys are ignored (as the spec
 * requires); at least one line of the pinned key must verify over the checkpoint text, with a
 * non-zero timestamp. Throws an Error saying what is wrong otherwise.
 */
export async function verifyCosignatureResponse(
  checkpointText: string,
  body: string,
  key: NoteVerifierKey,
): Promise<VerifiedCosignature> {
  let signatures: NoteSignature[];
  try {
    // The spec's suggestion: append the answer to the checkpoint and parse it as a note.
    signatures = parseNote(`${checkpointText}\n${body}`).signatures;
  } catch (e) {
    throw new Error(`the answer is not a sequence of note signature lines: ${(e as Error).message}`);
  }
  const mine = signatures.filter((s) => s.name === key.name && s.keyId === key.keyId);
  if (mine.length === 0)
    throw new Error(
      `the answer has no cosignature by the pinned key ${key.name}+${key.keyId.toString(16).padStart(8, "0")}`,
    );
  const verified = await verifyCosignatures(checkpointText, mine, [key]);
  if (verified.some((c) => c.timestamp === 0))
    throw new Error("a cosignature has timestamp 0 (tlog-witness: it must not be omitted)");
  const lines = [...new Set(verified.map((c) => formatCosignatureLine(c)))];
  return { lines, timestamp: verified[0]!.timestamp };
}

/** A short, single-line description of a refusal: a problem document's code and detail, else the body's start. */
export function refusalDetail(contentType: string | null, body: string): string {
  let text = body;
  if ((contentType ?? "").includes("json")) {
    try {
      const p = JSON.parse(body) as { code?: unknown; title?: unknown; detail?: unknown };
      text = [p.code ?? p.title, p.detail].filter((x) => typeof x === "string").join(": ") || body;
    } catch {
      /* not JSON after all: keep the raw start */
    }
  }
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
