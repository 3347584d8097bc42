/**
 * What receipts v2 carry for past-signature validation (issue 17): the RFC 3161 tokens of the
 * smallest timestamped checkpoint that covers the entry — its earliest proof of existence — and the
 * entry's tlog-proof against THAT checkpoint, so `proof` and `timestamps` are about one checkpoint
 * (the tokens' imprint is SHA-256 of the checkpoint text inside `proof`). Without such a checkpoint
 * the receipt keeps the proof against the latest checkpoint and has no `timestamps`.
 */
import { base64Encode, formatTlogProof, parseNote, type Bytes } from "../../verifier/src/formats/index.js";
import type { CheckpointTrust } from "./checkpoint-trust.js";
import type { LogV2 } from "./tree/log-v2.js";

export interface StampedEntryProof {
  /** c2sp.org/tlog-proof@v1 text against the timestamped checkpoint (its stored note, with every signature it has). */
  proof: string;
  /** base64 DER TimeStampTokens over that checkpoint's text. */
  timestamps: string[];
  size: number;
}

export async function stampedEntryProof(
  trust: CheckpointTrust,
  v2: LogV2,
  issuerId: string,
  seq: number,
): Promise<StampedEntryProof | undefined> {
  const stamped = await trust.firstCovering(v2.origin(issuerId), seq);
  if (!stamped || stamped.tokens.length === 0) return undefined;
  const cp = await v2.store.treeCheckpointAt(issuerId, stamped.size);
  // Tokens over another text than the stored checkpoint of that size are not this log's (never expected).
  if (!cp || parseNote(cp.note).text !== stamped.text) return undefined;
  const proof = (await v2.proofs.inclusionProof(issuerId, seq, stamped.size)) as Bytes[];
  return {
    proof: formatTlogProof({ index: seq, proof, checkpoint: cp.note }),
    timestamps: stamped.tokens.map((t) => base64Encode(t.token)),
    size: stamped.size,
  };
}
