/**
 * The dev TSA's certificates: a small dev TSA CA (its own KMS key) issues the TSA certificate
 * (extendedKeyUsage timeStamping, critical — RFC 3161 §2.3). Both are re-issued at every start;
 * fields are derived from the KMS keys (serial = hash of the key, notBefore = key creation), and
 * RSASSA-PKCS1-v1_5 is deterministic, so they come out byte-identical: a pin survives restarts.
 */
import "reflect-metadata";
import { createHash } from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { KmsKey, KmsSigner } from "./kms-signer.js";

const RSA_SHA256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;
const KMS_HANDLE = Object.freeze({
  type: "private",
  extractable: false,
  algorithm: { name: "RSASSA-PKCS1-v1_5", hash: { name: "SHA-256" } },
  usages: ["sign"],
});

/** A WebCrypto `Crypto` whose sign() hashes locally and has KMS sign the digest (no private key here). */
function kmsCrypto(signer: KmsSigner, keyId: string): Crypto {
  const base = globalThis.crypto;
  const subtle = Object.create(base.subtle, {
    sign: {
      value: async (_alg: unknown, key: CryptoKey, data: BufferSource) => {
        if ((key as unknown) !== KMS_HANDLE) throw new Error("only the KMS handle signs here");
        const bytes =
          data instanceof ArrayBuffer
            ? new Uint8Array(data)
            : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        const sig = await signer.signDigest(keyId, createHash("sha256").update(bytes).digest());
        return sig.slice().buffer;
      },
    },
  });
  for (const m of ["verify", "digest", "importKey", "exportKey", "generateKey"] as const)
    Object.defineProperty(subtle, m, { value: base.subtle[m].bind(base.subtle) });
  return { subtle, getRandomValues: base.getRandomValues.bind(base), randomUUID: base.randomUUID.bind(base) } as Crypto;
}

function serialFor(key: KmsKey, label: string): string {
  // Positive 16-byte serial: top bit cleared.
  const h = createHash("sha256").update(label).update(key.spki).digest();
  h[0] = (h[0]! & 0x7f) | 0x01;
  return h.subarray(0, 16).toString("hex");
}

async function publicKey(spki: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("spki", new Uint8Array(spki), RSA_SHA256, true, ["verify"]);
}

export interface TsaCertificates {
  ca: x509.X509Certificate;
  tsa: x509.X509Certificate;
}

/** Issues the dev TSA CA (self-signed) and the TSA certificate, both signed in KMS. */
export async function issueTsaCertificates(
  signer: KmsSigner,
  caKey: KmsKey,
  tsaKey: KmsKey,
  name: string,
): Promise<TsaCertificates> {
  const caPub = await publicKey(caKey.spki);
  const tsaPub = await publicKey(tsaKey.spki);
  const caName = `CN=${name} Dev TSA CA, O=Kakunin development (not a trust service)`;
  const ca = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialFor(caKey, "ca"),
      subject: caName,
      issuer: caName,
      notBefore: caKey.createdAt,
      notAfter: new Date(caKey.createdAt.getTime() + TEN_YEARS_MS),
      signingAlgorithm: RSA_SHA256,
      publicKey: caPub,
      signingKey: KMS_HANDLE as unknown as CryptoKey,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caPub),
      ],
    },
    kmsCrypto(signer, caKey.keyId),
  );
  const tsa = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialFor(tsaKey, "tsa"),
      subject: `CN=${name} Dev TSA, O=Kakunin development (not a trust service)`,
      issuer: ca.subject,
      notBefore: tsaKey.createdAt,
      notAfter: new Date(tsaKey.createdAt.getTime() + TEN_YEARS_MS / 2),
      signingAlgorithm: RSA_SHA256,
      publicKey: tsaPub,
      signingKey: KMS_HANDLE as unknown as CryptoKey,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.timeStamping], true),
        await x509.SubjectKeyIdentifierExtension.create(tsaPub),
        await x509.AuthorityKeyIdentifierExtension.create(caPub),
      ],
    },
    kmsCrypto(signer, caKey.keyId),
  );
  return { ca, tsa };
}
