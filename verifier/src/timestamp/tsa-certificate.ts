/**
 * Checks on the TSA's certificate and its path to the pinned TSA trust list. pkijs checks neither
 * keyUsage nor extendedKeyUsage (and fails open without CRLs), so the path is walked here by hand.
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { TimestampUntrustedError } from "./errors.js";
import { OID_EXT_BASIC_CONSTRAINTS, OID_EXT_EKU, OID_EXT_KEY_USAGE, OID_KP_TIME_STAMPING } from "./oids.js";
import { own, UnsupportedAlgorithmError, verifySignature } from "./signature.js";

const MAX_PATH = 5;
// KeyUsage bits (RFC 5280 §4.2.1.3), numbered from the most significant bit of the first octet.
const KU_DIGITAL_SIGNATURE = 0;
const KU_NON_REPUDIATION = 1;
const KU_KEY_CERT_SIGN = 5;

function der(cert: pkijs.Certificate): Uint8Array {
  return new Uint8Array(cert.toSchema().toBER());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function extensions(cert: pkijs.Certificate, oid: string): pkijs.Extension[] {
  return (cert.extensions ?? []).filter((e) => e.extnID === oid);
}

function keyUsageBit(cert: pkijs.Certificate, bit: number): boolean | undefined {
  const [ku] = extensions(cert, OID_EXT_KEY_USAGE);
  if (!ku) return undefined;
  const parsed = asn1js.fromBER(own(ku.extnValue.valueBlock.valueHexView));
  if (!(parsed.result instanceof asn1js.BitString))
    throw new TimestampUntrustedError("keyUsage is not a BIT STRING", { field: "certificate" });
  const bytes = parsed.result.valueBlock.valueHexView;
  return Boolean(bytes[bit >> 3]! & (0x80 >> (bit & 7)));
}

function validAt(cert: pkijs.Certificate, at: Date): boolean {
  return cert.notBefore.value.getTime() <= at.getTime() && at.getTime() <= cert.notAfter.value.getTime();
}

/**
 * RFC 3161 §2.3: the TSA certificate carries exactly one extendedKeyUsage extension, critical, whose
 * only purpose is id-kp-timeStamping; keyUsage, when present, allows digitalSignature or nonRepudiation.
 */
export function checkTsaCertificate(cert: pkijs.Certificate, genTime: Date): void {
  const ekus = extensions(cert, OID_EXT_EKU);
  if (ekus.length !== 1)
    throw new TimestampUntrustedError(
      `the TSA certificate has ${ekus.length} extendedKeyUsage extensions, RFC 3161 requires exactly one`,
      { field: "certificate" },
    );
  const eku = ekus[0]!;
  if (!eku.critical)
    throw new TimestampUntrustedError("the TSA certificate's extendedKeyUsage is not critical", {
      field: "certificate",
    });
  const usage = eku.parsedValue;
  const purposes = usage instanceof pkijs.ExtKeyUsage ? usage.keyPurposes : [];
  if (purposes.length !== 1 || purposes[0] !== OID_KP_TIME_STAMPING) {
    throw new TimestampUntrustedError(
      `the TSA certificate's extendedKeyUsage must be id-kp-timeStamping only, got [${purposes.join(", ")}]`,
      { field: "certificate" },
    );
  }
  const ds = keyUsageBit(cert, KU_DIGITAL_SIGNATURE);
  if (ds === false && !keyUsageBit(cert, KU_NON_REPUDIATION)) {
    throw new TimestampUntrustedError(
      "the TSA certificate's keyUsage allows neither digitalSignature nor nonRepudiation",
      { field: "certificate" },
    );
  }
  if (!validAt(cert, genTime))
    throw new TimestampUntrustedError(`the TSA certificate is not valid at genTime ${genTime.toISOString()}`, {
      field: "certificate",
    });
}

function isCa(cert: pkijs.Certificate): boolean {
  const [bc] = extensions(cert, OID_EXT_BASIC_CONSTRAINTS);
  return bc?.parsedValue instanceof pkijs.BasicConstraints && Boolean(bc.parsedValue.cA);
}

async function signedBy(cert: pkijs.Certificate, issuer: pkijs.Certificate): Promise<boolean> {
  if (!cert.issuer.isEqual(issuer.subject)) return false;
  try {
    return await verifySignature(
      issuer.subjectPublicKeyInfo,
      cert.signatureAlgorithm.algorithmId,
      undefined,
      own(cert.tbsView),
      own(cert.signatureValue.valueBlock.valueHexView),
    );
  } catch (err) {
    if (err instanceof UnsupportedAlgorithmError) return false;
    throw err;
  }
}

/**
 * Walks from the signer certificate to a certificate of the pinned trust list (DER-equal), through
 * intermediates from `pool` (the token's certificates). Pinning the TSA certificate itself is allowed.
 * Every issuer above the signer must be a CA with keyCertSign (when keyUsage is present), and every
 * certificate must be valid at genTime. Revocation of the TSA's certificates is not checked here.
 * Returns the path, signer first, trust anchor last.
 */
export async function chainToTrustList(
  signer: pkijs.Certificate,
  pool: readonly pkijs.Certificate[],
  trusted: readonly pkijs.Certificate[],
  genTime: Date,
): Promise<pkijs.Certificate[]> {
  const trustedDer = trusted.map(der);
  const isPinned = (c: pkijs.Certificate) => {
    const d = der(c);
    return trustedDer.some((t) => sameBytes(t, d));
  };
  const path = [signer];
  let current = signer;
  while (!isPinned(current)) {
    if (path.length > MAX_PATH)
      throw new TimestampUntrustedError(`no path to the TSA trust list within ${MAX_PATH} certificates`, {
        field: "certificate",
      });
    let next: pkijs.Certificate | undefined;
    for (const candidate of [...trusted, ...pool]) {
      if (path.some((p) => sameBytes(der(p), der(candidate)))) continue;
      if (await signedBy(current, candidate)) {
        next = candidate;
        break;
      }
    }
    if (!next)
      throw new TimestampUntrustedError("the TSA certificate does not chain to the pinned TSA trust list", {
        field: "certificate",
      });
    if (!isCa(next))
      throw new TimestampUntrustedError("an issuer on the TSA path is not a CA (basicConstraints)", {
        field: "certificate",
      });
    if (keyUsageBit(next, KU_KEY_CERT_SIGN) === false)
      throw new TimestampUntrustedError("an issuer on the TSA path lacks keyCertSign", { field: "certificate" });
    if (!validAt(next, genTime))
      throw new TimestampUntrustedError(`an issuer on the TSA path is not valid at genTime ${genTime.toISOString()}`, {
        field: "certificate",
      });
    path.push(next);
    current = next;
  }
  return path;
}
