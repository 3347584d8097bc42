/** Issuing one certificate through KMS, and reading back what was issued. */
import { createHash } from "node:crypto";
import { bytesEqual, toArrayBuffer } from "./bytes.js";
import { CaIntegrityError } from "./errors.js";
import { kmsSigningKey } from "./kms-crypto.js";
import { SIGNING_ALGORITHM } from "./profiles.js";
import { signatureVerifies } from "./signed.js";
import { x509 } from "./x509.js";
import { pemEncode } from "@kakunin/verifier/formats";

export interface IssuedCertificate {
  /** lowercase hex */
  serial: string;
  der: Uint8Array;
  pem: string;
  notBefore: Date;
  notAfter: Date;
}

export function u8(buf: ArrayBuffer): Uint8Array {
  return new Uint8Array(buf);
}

export function toIssued(cert: x509.X509Certificate, serial: string): IssuedCertificate {
  const der = u8(cert.rawData);
  return { serial, der, pem: pemEncode(der, "CERTIFICATE"), notBefore: cert.notBefore, notAfter: cert.notAfter };
}

/** Serial, validity, subject and SPKI of a DER certificate. */
export function certificateInfo(der: Uint8Array): {
  serial: string;
  notBefore: Date;
  notAfter: Date;
  subject: string;
  spki: Uint8Array;
} {
  const cert = new x509.X509Certificate(toArrayBuffer(der));
  return {
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    subject: cert.subject,
    spki: u8(cert.publicKey.rawData),
  };
}

/** Lowercase hex SHA-256 of the DER bytes (what verifiers pin). */
export function fingerprintSha256(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

export async function signCertificate(
  crypto: Crypto,
  keyArn: string,
  params: {
    serial: string;
    subject: x509.Name;
    issuer: x509.Name;
    spki: Uint8Array;
    notBefore: Date;
    notAfter: Date;
    extensions: x509.Extension[];
  },
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: params.serial,
      subject: params.subject,
      issuer: params.issuer,
      notBefore: params.notBefore,
      notAfter: params.notAfter,
      publicKey: toArrayBuffer(params.spki),
      signingKey: kmsSigningKey(keyArn, "RSASSA_PKCS1_V1_5_SHA_256"),
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: params.extensions,
    },
    crypto,
  );
}

export function checkIssued(cert: x509.X509Certificate, serial: string, spki: Uint8Array, caSpki: Uint8Array): void {
  if (cert.serialNumber.toLowerCase() !== serial)
    throw new CaIntegrityError("ERR_CA_CERTIFICATE_INVALID", "Issued certificate carries the wrong serial");
  if (!bytesEqual(u8(cert.publicKey.rawData), spki))
    throw new CaIntegrityError(
      "ERR_PUBLIC_KEY_MISMATCH",
      "Issued certificate does not certify the requested public key",
    );
  if (!signatureVerifies(u8(cert.rawData), caSpki)) {
    throw new CaIntegrityError(
      "ERR_CA_SIGNATURE_INVALID",
      "The KMS signature on the certificate does not verify under the CA public key",
    );
  }
}
