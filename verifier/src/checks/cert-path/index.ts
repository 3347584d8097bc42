/**
 * Certificate path (depth 1: pinned CA → leaf, as the CA has pathLen 0) and profile checks.
 * pkijs's chain engine fails open without CRLs, so we verify the signature explicitly and check
 * revocation separately (checks/crl), always.
 */
import { VerificationError } from "../../errors.js";
import { OID_EKU_DOCUMENT_SIGNING, type CertInfo } from "../../x509/certificate.js";

/** CN of the log signer certificate (README "What each step checks", 3). */
export const LOG_SIGNER_CN = "Kakunin log signer";
const SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
const SPIFFE_AGENT = /^spiffe:\/\/([A-Za-z0-9._-]{1,255})\/agent\/([^/?#]{1,256})$/;

/** A certificate with its role and the outcome of path + profile checks. */
export interface CheckedCert extends CertInfo {
  role: "agent" | "log" | "unknown";
  /** For agent certificates: the agent id (CN = SAN path). */
  agentId?: string;
  trustDomain?: string;
  /** Set when the certificate must not be relied on. */
  pathError?: VerificationError;
}

/** Checks `cert` is issued by `ca` (signature, names, algorithm) and fits the agent or log-signer profile. */
export async function checkCertificate(cert: CertInfo, ca: CertInfo): Promise<CheckedCert> {
  const out: CheckedCert = { ...cert, role: "unknown" };
  const fail = (msg: string) => {
    out.pathError ??= new VerificationError("ERR_CERT_PATH", `certificate ${cert.serial}: ${msg}`);
  };
  let sigOk = false;
  try {
    sigOk = cert.pkijs.issuer.isEqual(ca.pkijs.subject) && (await cert.pkijs.verify(ca.pkijs));
  } catch {
    sigOk = false;
  }
  if (!sigOk) fail("not issued by the pinned CA (issuer name or signature)");
  if (cert.notBefore < ca.notBefore || cert.notAfter > ca.notAfter)
    fail("validity period is not within the CA certificate's");
  if (ca.ski !== undefined && cert.akiKeyId !== ca.ski) {
    fail(
      cert.akiKeyId === undefined
        ? "authorityKeyIdentifier missing (the CA has a subjectKeyIdentifier)"
        : "authorityKeyIdentifier is not the CA's subjectKeyIdentifier",
    );
  }
  if (cert.unknownCritical.length)
    fail(
      `has a critical extension this verifier does not process (${cert.unknownCritical.join(", ")}); RFC 5280 requires rejecting it`,
    );
  if (cert.repeatedExtensions.length)
    fail(`repeats extension ${cert.repeatedExtensions.join(", ")} (RFC 5280: one instance each)`);
  if (cert.signatureAlgorithm !== SHA256_WITH_RSA) fail("signature algorithm is not sha256WithRSAEncryption");
  if (cert.basicConstraints.ca) fail("is a CA certificate (CA:FALSE required)");
  if (!cert.keyUsage.present || !cert.keyUsage.digitalSignature) fail("keyUsage digitalSignature missing");
  if (!cert.eku?.includes(OID_EKU_DOCUMENT_SIGNING)) fail("extKeyUsage documentSigning (1.3.6.1.5.5.7.3.36) missing");

  if (cert.subjectCN === LOG_SIGNER_CN) {
    out.role = "log";
  } else {
    const m = cert.sanCount === 1 && cert.sanUris.length === 1 ? SPIFFE_AGENT.exec(cert.sanUris[0]!) : null;
    if (!m) {
      fail("needs exactly one URI SAN spiffe://<trust-domain>/agent/<agent id>");
    } else if (m[2] !== cert.subjectCN) {
      fail(`SAN agent id ${m[2]} differs from CN ${cert.subjectCN ?? "(none)"}`);
    } else {
      out.role = "agent";
      out.agentId = m[2]!;
      out.trustDomain = m[1]!;
    }
  }
  return out;
}
