/**
 * Signer: signs a sequenced batch's digests concurrently through KMS (agent key for
 * `agent.operation`, log key for lifecycle entries — whatever the sequenced entry names).
 */
import { KakuninError, KmsUnavailableError } from "../errors.js";
import { base64Encode } from "@kakunin/verifier/formats";
import type { SequencedEntry } from "./sequencer.js";
import { ENTRY_ALG, type DigestSigner } from "./types.js";

export type SignResult = { ok: true; sig: string; requestId?: string | undefined } | { ok: false; error: KakuninError };

/** Anything KMS throws that custody did not classify is treated as KMS being unavailable. */
export function asKmsError(e: unknown): KakuninError {
  if (e instanceof KakuninError) return e;
  return new KmsUnavailableError("KMS signing failed; retry later", 1, e);
}

export async function signBatch(custody: DigestSigner, entries: SequencedEntry[]): Promise<SignResult[]> {
  return Promise.all(
    entries.map(async (e): Promise<SignResult> => {
      try {
        if (custody.signDigestWithRequestId) {
          const { signature, requestId } = await custody.signDigestWithRequestId(
            e.unsigned.signer.key,
            e.digest,
            ENTRY_ALG,
          );
          return { ok: true, sig: base64Encode(signature), requestId };
        }
        const sig = await custody.signDigest(e.unsigned.signer.key, e.digest, ENTRY_ALG);
        return { ok: true, sig: base64Encode(sig), requestId: undefined };
      } catch (err) {
        return { ok: false, error: asKmsError(err) };
      }
    }),
  );
}

/** Index of the first failed signature, or `results.length` when all succeeded. */
export function firstFailure(results: SignResult[]): number {
  const i = results.findIndex((r) => !r.ok);
  return i === -1 ? results.length : i;
}
