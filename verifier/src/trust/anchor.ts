/**
 * Trust is pinned out of band (README "Threat model"): the caller names the CA by certificate or by
 * the SHA-256 of its DER. A CA carried inside an export or receipt is only a candidate to compare.
 */
import { malformed, VerificationError } from "../errors.js";
import { parseCertificatePem, type CertInfo } from "../x509/certificate.js";

/** The pinned root: the CA certificate (PEM) or its fingerprint `sha256:HEX` (colons allowed, any case). */
export type TrustAnchor = { caCertificate: string } | { caFingerprint: string };

/** Normalises `sha256:AB:CD…` to 64 lowercase hex characters. Throws ERR_MALFORMED. */
export function normaliseFingerprint(fp: string): string {
  if (typeof fp !== "string") throw malformed("caFingerprint must be a string", { field: "caFingerprint" });
  const hex = fp
    .trim()
    .replace(/^sha-?256:/i, "")
    .replace(/:/g, "")
    .toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw malformed("caFingerprint must be sha256:<64 hex>", { field: "caFingerprint" });
  return hex;
}

/**
 * Resolves the pinned CA. `candidates` are CA PEMs the input carries (export header, receipt):
 * with a pinned certificate, any candidate that differs is ERR_UNTRUSTED_ROOT; with a pinned
 * fingerprint, the candidate matching it is used, and none matching is ERR_UNTRUSTED_ROOT.
 */
export async function resolveTrustAnchor(trust: TrustAnchor, candidates: readonly CertInfo[]): Promise<CertInfo> {
  let ca: CertInfo;
  if (trust && "caCertificate" in trust) {
    ca = await parseCertificatePem(trust.caCertificate, "trust.caCertificate");
    const other = candidates.find((c) => c.fingerprint !== ca.fingerprint);
    if (other) {
      throw new VerificationError(
        "ERR_UNTRUSTED_ROOT",
        `the input's CA (sha256:${other.fingerprint}) is not the pinned CA (sha256:${ca.fingerprint})`,
      );
    }
  } else if (trust && "caFingerprint" in trust) {
    const fp = normaliseFingerprint(trust.caFingerprint);
    const match = candidates.find((c) => c.fingerprint === fp);
    if (!match)
      throw new VerificationError(
        "ERR_UNTRUSTED_ROOT",
        `no CA certificate in the input has the pinned fingerprint sha256:${fp}`,
      );
    ca = match;
  } else {
    throw malformed("trust must give caCertificate or caFingerprint", { field: "trust" });
  }
  if (!ca.basicConstraints.ca || !ca.keyUsage.keyCertSign) {
    throw new VerificationError(
      "ERR_CERT_PATH",
      "the pinned certificate is not a CA (basicConstraints CA:TRUE and keyCertSign required)",
    );
  }
  if (ca.unknownCritical.length || ca.repeatedExtensions.length) {
    throw new VerificationError(
      "ERR_CERT_PATH",
      `the pinned CA certificate has ${ca.unknownCritical.length ? `a critical extension this verifier does not process (${ca.unknownCritical.join(", ")})` : `a repeated extension (${ca.repeatedExtensions.join(", ")})`}; RFC 5280 requires rejecting it`,
    );
  }
  return ca;
}
