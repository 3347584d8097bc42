/**
 * Builds and signs a v2 CRL (TBSCertList → CertificateList) with @peculiar/asn1-x509 directly.
 * Not X509CrlGenerator: the generator gives every entry a crlEntryExtensions field, so an entry with
 * no reasonCode ("unspecified", which RFC 5280 §5.3.1 says SHOULD be absent) came out with an empty
 * SEQUENCE (30 00). RFC 5280 has `Extensions ::= SEQUENCE SIZE (1..MAX)`: OpenSSL let it pass, pkijs
 * (the verifier) rejected the whole CRL. Here an entry without extensions has no field at all.
 */
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import {
  AlgorithmIdentifier,
  CertificateList,
  CRLReason,
  type CRLReasons,
  Extension,
  Extensions,
  id_ce_cRLReasons,
  Name,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
} from "@peculiar/asn1-x509";
import { ValidationError } from "../errors.js";
import { toArrayBuffer } from "./bytes.js";
import { reasonCode, type RevocationReason } from "./crl.js";
import { SHA256_WITH_RSA_ALG_ID } from "./signed.js";
import { truncateToSecond } from "./profiles.js";
import type { x509 } from "./x509.js";

export interface CrlEntryInput {
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CrlContents {
  issuer: x509.Name;
  thisUpdate: Date;
  nextUpdate: Date;
  revoked: CrlEntryInput[];
  /** crlExtensions (AKI, cRLNumber), in order. */
  extensions: x509.Extension[];
}

/** The INTEGER content octets of a hex serial: minimal, with a 00 in front when the top bit is set. */
function serialOctets(hex: string): ArrayBuffer {
  let bytes = Buffer.from(hex, "hex");
  let first = 0;
  while (first < bytes.length - 1 && bytes[first] === 0) first++;
  bytes = bytes.subarray(first);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return toArrayBuffer(bytes);
}

/** Checks the entries (hex serials, each once, known reasons) and turns them into RevokedCertificates. */
export function revokedCertificates(revoked: CrlEntryInput[]): RevokedCertificate[] {
  const seen = new Set<string>();
  return revoked.map((r) => {
    const serial = typeof r.serial === "string" ? r.serial.toLowerCase().replace(/^(00)+(?=[89a-f])/, "") : "";
    if (!/^[0-9a-f]{2,40}$/.test(serial) || serial.length % 2)
      throw new ValidationError(`Not a certificate serial: ${String(r.serial)}`, {
        field: "revoked.serial",
        status: 422,
      });
    if (seen.has(serial))
      throw new ValidationError(`Serial ${serial} is listed twice`, { field: "revoked.serial", status: 422 });
    seen.add(serial);
    const code = reasonCode(r.reason);
    const entry = new RevokedCertificate({
      userCertificate: serialOctets(serial),
      revocationDate: new Time(truncateToSecond(r.revokedAt)),
    });
    // X509CrlReason and CRLReasons are both the RFC 5280 CRLReason numbers.
    if (code !== undefined) {
      entry.crlEntryExtensions = [
        new Extension({
          extnID: id_ce_cRLReasons,
          critical: false,
          extnValue: new OctetString(AsnConvert.serialize(new CRLReason(code as number as CRLReasons))),
        }),
      ];
    }
    return entry;
  });
}

/** The DER TBSCertList (v2, sha256WithRSAEncryption). */
export function tbsCertList(contents: CrlContents): Uint8Array {
  const revoked = revokedCertificates(contents.revoked);
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: AsnConvert.parse(SHA256_WITH_RSA_ALG_ID, AlgorithmIdentifier),
    issuer: AsnConvert.parse(contents.issuer.toArrayBuffer(), Name),
    thisUpdate: new Time(truncateToSecond(contents.thisUpdate)),
    nextUpdate: new Time(truncateToSecond(contents.nextUpdate)),
  });
  if (revoked.length) tbs.revokedCertificates = revoked;
  if (contents.extensions.length)
    tbs.crlExtensions = new Extensions(contents.extensions.map((e) => AsnConvert.parse(e.rawData, Extension)));
  return new Uint8Array(AsnConvert.serialize(tbs));
}

/**
 * The signed CRL's DER. `key` signs RSASSA-PKCS1-v1_5/SHA-256 through `crypto` — in the CA a KMS
 * handle (kms-crypto.ts), in unit tests an in-memory WebCrypto key.
 */
export async function buildSignedCrl(contents: CrlContents, crypto: Crypto, key: CryptoKey): Promise<Uint8Array> {
  const tbs = tbsCertList(contents);
  const signature = await crypto.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, key, toArrayBuffer(tbs));
  const crl = new CertificateList({
    tbsCertList: AsnConvert.parse(tbs, TBSCertList),
    signatureAlgorithm: AsnConvert.parse(SHA256_WITH_RSA_ALG_ID, AlgorithmIdentifier),
    signature: signature,
  });
  return new Uint8Array(AsnConvert.serialize(crl));
}
