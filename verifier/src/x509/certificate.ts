/** X.509 parsing with pkijs into the facts the checks need. Input is attacker-controlled DER. */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { malformed, VerificationError } from "../errors.js";
import { hexEncode, toBytes, type Bytes } from "../formats/bytes.js";
import { sha256Hex } from "../formats/hash.js";
import { pemDecode } from "../formats/pem.js";

export const OID_CN = "2.5.4.3";
export const OID_O = "2.5.4.10";
export const OID_EKU_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36";
const OID_KEY_USAGE = "2.5.29.15";
const OID_EKU = "2.5.29.37";
const OID_SAN = "2.5.29.17";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_SKI = "2.5.29.14";
const OID_AKI = "2.5.29.35";
/**
 * Extensions whose content this verifier processes. RFC 5280 §4.2: a critical extension not in
 * this set must make the certificate unusable (checks/cert-path, trust/anchor).
 */
const PROCESSED_EXTENSIONS = new Set([OID_KEY_USAGE, OID_EKU, OID_SAN, OID_BASIC_CONSTRAINTS, OID_SKI, OID_AKI]);

/** A parsed certificate. */
export interface CertInfo {
  der: Bytes;
  pkijs: pkijs.Certificate;
  /** Lowercase hex serial without the sign byte (FORMATS.md). */
  serial: string;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string;
  subjectCN: string | undefined;
  subjectO: string | undefined;
  issuerCN: string | undefined;
  notBefore: number;
  notAfter: number;
  /** SubjectPublicKeyInfo DER, for WebCrypto importKey("spki"). */
  spki: Bytes;
  /** URI SANs; `sanCount` counts every SAN of any type. */
  sanUris: string[];
  sanCount: number;
  /** Extended key usages, or null if the extension is absent. */
  eku: string[] | null;
  keyUsage: { present: boolean; critical: boolean; digitalSignature: boolean; keyCertSign: boolean; crlSign: boolean };
  basicConstraints: { present: boolean; critical: boolean; ca: boolean };
  signatureAlgorithm: string;
  /** subjectKeyIdentifier (lowercase hex), if present. */
  ski?: string;
  /** authorityKeyIdentifier keyIdentifier (lowercase hex), if present. */
  akiKeyId?: string;
  /** OIDs of critical extensions this verifier does not process (RFC 5280: reject the certificate). */
  unknownCritical: string[];
  /** OIDs of extensions that occur more than once (RFC 5280 §4.2: at most one instance each). */
  repeatedExtensions: string[];
}

/** Lowercase hex of a DER INTEGER's magnitude, dropping the 00 sign byte. */
export function serialHex(value: Uint8Array): string {
  let v = value;
  if (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) !== 0) v = v.subarray(1);
  return hexEncode(v);
}

function attr(name: pkijs.RelativeDistinguishedNames, oid: string): string | undefined {
  const tv = name.typesAndValues.find((t) => t.type === oid);
  const v = tv?.value?.valueBlock?.value;
  return typeof v === "string" ? v : undefined;
}

/** Parses DER. Throws ERR_MALFORMED (never a pkijs/asn1js exception). */
export async function parseCertificateDer(der: Bytes, field = "certificate"): Promise<CertInfo> {
  let cert: pkijs.Certificate;
  try {
    const asn1 = asn1js.fromBER(der);
    if (asn1.offset === -1 || asn1.offset !== der.byteLength) throw new Error("bad BER");
    cert = new pkijs.Certificate({ schema: asn1.result });
  } catch {
    throw malformed(`${field} is not a valid X.509 certificate`, { field });
  }
  try {
    const exts = cert.extensions ?? [];
    const ext = (oid: string) => exts.find((e) => e.extnID === oid);
    const ku = ext(OID_KEY_USAGE);
    let kuBits = 0;
    if (ku) {
      const bs = asn1js.fromBER(ku.extnValue.valueBlock.valueHexView).result as asn1js.BitString;
      const bytes = bs.valueBlock.valueHexView;
      kuBits = ((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0);
    }
    const eku = ext(OID_EKU);
    const san = ext(OID_SAN);
    const altNames = san ? ((san.parsedValue as pkijs.AltName | undefined)?.altNames ?? []) : [];
    const bc = ext(OID_BASIC_CONSTRAINTS);
    const skiExt = ext(OID_SKI);
    let ski: string | undefined;
    if (skiExt) {
      const os = asn1js.fromBER(skiExt.extnValue.valueBlock.valueHexView).result;
      if (!(os instanceof asn1js.OctetString)) throw new Error("bad SKI");
      ski = hexEncode(os.valueBlock.valueHexView);
    }
    const akiExt = ext(OID_AKI);
    let akiKeyId: string | undefined;
    if (akiExt) {
      const kid = (akiExt.parsedValue as pkijs.AuthorityKeyIdentifier | undefined)?.keyIdentifier;
      if (kid) akiKeyId = hexEncode(kid.valueBlock.valueHexView);
    }
    const spki = toBytes(cert.subjectPublicKeyInfo.toSchema().toBER(false));
    return {
      der,
      pkijs: cert,
      serial: serialHex(cert.serialNumber.valueBlock.valueHexView),
      fingerprint: await sha256Hex(der),
      subjectCN: attr(cert.subject, OID_CN),
      subjectO: attr(cert.subject, OID_O),
      issuerCN: attr(cert.issuer, OID_CN),
      notBefore: cert.notBefore.value.getTime(),
      notAfter: cert.notAfter.value.getTime(),
      spki,
      sanUris: altNames.filter((n) => n.type === 6 && typeof n.value === "string").map((n) => n.value as string),
      sanCount: altNames.length,
      eku: eku ? ((eku.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? []) : null,
      keyUsage: {
        present: !!ku,
        critical: !!ku?.critical,
        digitalSignature: (kuBits & 0x8000) !== 0,
        keyCertSign: (kuBits & 0x0400) !== 0,
        crlSign: (kuBits & 0x0200) !== 0,
      },
      basicConstraints: {
        present: !!bc,
        critical: !!bc?.critical,
        ca: !!(bc?.parsedValue as pkijs.BasicConstraints | undefined)?.cA,
      },
      signatureAlgorithm: cert.signatureAlgorithm.algorithmId,
      unknownCritical: exts.filter((e) => e.critical && !PROCESSED_EXTENSIONS.has(e.extnID)).map((e) => e.extnID),
      repeatedExtensions: [...new Set(exts.map((e) => e.extnID).filter((id, i, all) => all.indexOf(id) !== i))],
      ...(ski !== undefined ? { ski } : {}),
      ...(akiKeyId !== undefined ? { akiKeyId } : {}),
    };
  } catch (e) {
    if (e instanceof VerificationError && e.code === "ERR_MALFORMED") throw e;
    throw malformed(`${field}: unreadable certificate extension`, { field });
  }
}

/** Parses a PEM `CERTIFICATE`. Throws ERR_MALFORMED. */
export function parseCertificatePem(pem: string, field = "certificate"): Promise<CertInfo> {
  return parseCertificateDer(pemDecode(pem, "CERTIFICATE", field), field);
}
