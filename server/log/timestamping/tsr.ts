/**
 * The bytes of `…/checkpoint.tsr`: one DER TimeStampResp (RFC 3161 §2.4.2, granted) holding one
 * token over the checkpoint text, for `openssl ts -verify -in checkpoint.tsr -data checkpoint`.
 * One file serves one token; receipts carry all of them.
 */
import { encodeTimestampResponse } from "../../../verifier/src/timestamp/index.js";
import type { CheckpointTimestamp } from "./store.js";

/**
 * Picks the token of the first TSA in `preference` (KAKUNIN_TSA_URLS order) that has one, else the
 * earliest genTime; undefined when there is no token (the route answers 404 then).
 */
export function checkpointTsr(
  tokens: readonly CheckpointTimestamp[],
  preference: readonly string[] = [],
): Uint8Array | undefined {
  if (tokens.length === 0) return undefined;
  const rank = (t: CheckpointTimestamp) => {
    const i = preference.indexOf(t.tsaUrl);
    return i === -1 ? preference.length : i;
  };
  const chosen = [...tokens].sort((a, b) => rank(a) - rank(b) || a.genTime.getTime() - b.genTime.getTime())[0]!;
  return encodeTimestampResponse(chosen.token);
}
