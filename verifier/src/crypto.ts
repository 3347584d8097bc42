/** RSA verification over WebCrypto with a per-key cache. pkijs-free, so Web Workers can load it cheaply. */
import type { Bytes } from "./formats/bytes.js";
import { hexEncode } from "./formats/bytes.js";

/** Signature algorithms, named as KMS names them. */
export type SigningAlgorithm = "RSASSA_PSS_SHA_256" | "RSASSA_PKCS1_V1_5_SHA_256";

export const SUPPORTED_ALGS: ReadonlySet<string> = new Set(["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"]);

function importParams(alg: SigningAlgorithm): RsaHashedImportParams {
  return { name: alg === "RSASSA_PSS_SHA_256" ? "RSA-PSS" : "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
}

/** Caches imported CryptoKeys per (SPKI, algorithm): importKey is far costlier than one verify. */
export class KeyCache {
  #keys = new Map<string, Promise<CryptoKey | null>>();

  /** The verify key for an SPKI, or null if WebCrypto rejects the SPKI (not RSA, garbage…). */
  get(spki: Bytes, alg: SigningAlgorithm, id?: string): Promise<CryptoKey | null> {
    const k = `${alg}|${id ?? hexEncode(spki)}`;
    let p = this.#keys.get(k);
    if (!p) {
      p = crypto.subtle.importKey("spki", spki, importParams(alg), false, ["verify"]).catch(() => null);
      this.#keys.set(k, p);
    }
    return p;
  }

  clear(): void {
    this.#keys.clear();
  }
}

/**
 * Verifies an RSA signature over `message`. PSS uses salt length 32 (= digest length, what KMS
 * RSASSA_PSS_SHA_256 produces). Returns false, never throws, on any bad input.
 */
export async function verifyRsa(
  key: CryptoKey,
  alg: SigningAlgorithm,
  message: Bytes,
  signature: Bytes,
): Promise<boolean> {
  try {
    const params: AlgorithmIdentifier | RsaPssParams =
      alg === "RSASSA_PSS_SHA_256" ? { name: "RSA-PSS", saltLength: 32 } : { name: "RSASSA-PKCS1-v1_5" };
    return await crypto.subtle.verify(params, key, signature, message);
  } catch {
    return false;
  }
}
