/**
 * A WebCrypto-shaped `Crypto` whose `subtle.sign` signs inside KMS: the data (TBS bytes) is hashed
 * with SHA-256 locally and KMS signs the digest (MessageType=DIGEST; KMS caps messages at 4096 bytes).
 * Only keys made by `kmsSigningKey()` take that path; everything else delegates to globalThis.crypto.
 * The "key" is a handle holding an ARN — there is no private key in this process.
 */
import { createHash } from "node:crypto";
import type { KeyCustody, SigningAlgorithm } from "../kms/custody.js";

const KMS_KEYS = new WeakMap<object, { arn: string; alg: SigningAlgorithm }>();

/** A CryptoKey-shaped handle for a KMS key; its `algorithm` tells @peculiar/x509 which AlgorithmIdentifier to write. */
export function kmsSigningKey(arn: string, alg: SigningAlgorithm = "RSASSA_PKCS1_V1_5_SHA_256"): CryptoKey {
  const algorithm =
    alg === "RSASSA_PKCS1_V1_5_SHA_256"
      ? { name: "RSASSA-PKCS1-v1_5", hash: { name: "SHA-256" } }
      : { name: "RSA-PSS", hash: { name: "SHA-256" }, saltLength: 32 };
  const key = Object.freeze({
    type: "private",
    extractable: false,
    algorithm: Object.freeze(algorithm),
    usages: ["sign"],
  }) as unknown as CryptoKey;
  KMS_KEYS.set(key, { arn, alg });
  return key;
}

function algName(a: AlgorithmIdentifier | RsaPssParams | EcdsaParams | Algorithm): string {
  return (typeof a === "string" ? a : a.name).toUpperCase();
}

function hashName(a: unknown): string | undefined {
  if (!a || typeof a !== "object" || !("hash" in a)) return undefined;
  const h = (a as { hash: unknown }).hash;
  if (typeof h === "string") return h.toUpperCase();
  if (h && typeof h === "object" && "name" in h && typeof h.name === "string") return h.name.toUpperCase();
  return undefined;
}

function toBytes(data: BufferSource): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class KmsSigningError extends Error {
  readonly code = "ERR_KMS_SIGNING_ALGORITHM";
}

export function createKmsCrypto(custody: KeyCustody, base: Crypto = globalThis.crypto): Crypto {
  const subtle = base.subtle;
  const kmsSubtle = Object.create(subtle, {
    sign: {
      value: async (
        algorithm: AlgorithmIdentifier | RsaPssParams | EcdsaParams,
        key: CryptoKey,
        data: BufferSource,
      ): Promise<ArrayBuffer> => {
        const handle = KMS_KEYS.get(key);
        if (!handle) return subtle.sign(algorithm, key, data);
        const name = algName(algorithm);
        const hash = hashName(algorithm) ?? hashName(key.algorithm);
        const wanted = handle.alg === "RSASSA_PKCS1_V1_5_SHA_256" ? "RSASSA-PKCS1-V1_5" : "RSA-PSS";
        if (name !== wanted || hash !== "SHA-256") {
          throw new KmsSigningError(`KMS key ${handle.arn} signs ${handle.alg}, asked for ${name}/${hash ?? "?"}`);
        }
        const digest = createHash("sha256").update(toBytes(data)).digest();
        const sig = await custody.signDigest(handle.arn, new Uint8Array(digest), handle.alg);
        return sig.slice().buffer;
      },
    },
  }) as SubtleCrypto;
  // Methods of the real SubtleCrypto need `this` to be the real instance.
  for (const m of [
    "encrypt",
    "decrypt",
    "verify",
    "digest",
    "generateKey",
    "deriveKey",
    "deriveBits",
    "importKey",
    "exportKey",
    "wrapKey",
    "unwrapKey",
  ] as const) {
    const fn = (subtle as unknown as Record<string, unknown>)[m];
    if (typeof fn === "function") Object.defineProperty(kmsSubtle, m, { value: fn.bind(subtle) });
  }
  return {
    subtle: kmsSubtle,
    getRandomValues: base.getRandomValues.bind(base),
    randomUUID: base.randomUUID.bind(base),
  } as Crypto;
}
