/** The tlog-witness add-checkpoint wire format on the client side: the request body and the 409 size body. */
import { base64Encode } from "../../../verifier/src/formats/bytes.js";

/** The spec's cap on consistency proof lines. */
export const MAX_PROOF_LINES = 63;
/** The 409 body's media type. */
export const TLOG_SIZE_TYPE = "text/x.tlog.size";

/** `old <size>\n`, one base64 line per proof hash, a blank line, then the signed checkpoint note. */
export function formatAddCheckpointBody(oldSize: number, proof: readonly Uint8Array[], note: string): string {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0)
    throw new RangeError(`old size ${oldSize} is not a non-negative integer`);
  if (proof.length > MAX_PROOF_LINES)
    throw new RangeError(`a consistency proof of ${proof.length} hashes is over the ${MAX_PROOF_LINES}-line limit`);
  for (const h of proof) if (h.length !== 32) throw new RangeError("consistency proof hashes must be 32 bytes");
  return `old ${oldSize}\n${proof.map((h) => `${base64Encode(h)}\n`).join("")}\n${note}`;
}

/**
 * The witness's latest size from a 409 answer, or undefined if the answer is not a well-formed
 * `text/x.tlog.size` body (decimal, no leading zeroes, one newline).
 */
export function parseTlogSize(contentType: string | null, body: string): number | undefined {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== TLOG_SIZE_TYPE) return undefined;
  const m = /^(0|[1-9][0-9]*)\n$/.exec(body);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}
