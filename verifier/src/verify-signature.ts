/** verifySignature: a bare signature over message bytes with a certificate. */
import { malformed, VerificationError } from "./errors.js";
import { failed, unreadable, type CheckProblem } from "./checks/problem.js";
import { validityProblems } from "./checks/verdict/index.js";
import { KeyCache, SUPPORTED_ALGS, verifyRsa, type SigningAlgorithm } from "./crypto.js";
import { crlInputs as crlInputsOf, type CrlArg } from "./checks/crl/index.js";
import { ReportBuilder, type Report } from "./report.js";
import { noPoe, parseCertificates, SingleCheck, trustAndPath } from "./single.js";
import type { TrustAnchor } from "./trust/anchor.js";
import { base64Decode, toBytes, type Bytes } from "./formats/bytes.js";

/** Options for {@link verifySignature}. */
export interface VerifySignatureOptions {
  message: Uint8Array;
  /** Raw signature bytes or standard base64. */
  signature: Uint8Array | string;
  /** Signer certificate PEM; may be followed by the CA PEM (needed when trust is a fingerprint). */
  certificate: string;
  trust: TrustAnchor;
  /** CRLs, PEM or base64 DER. Without one, revocation is unknown (INDETERMINATE). */
  crls?: CrlArg[];
  /** Default RSASSA_PSS_SHA_256 (salt 32). */
  alg?: SigningAlgorithm;
  /** Claimed signing time, checked against the certificate's validity; default now. */
  at?: Date;
  /** Time for CRL freshness; default now. */
  now?: Date;
}

/**
 * Verifies a signature made by an agent or the log signer. A bare signature carries no proof of
 * when it was made, so a revoked certificate gives INDETERMINATE NO_POE.
 */
export async function verifySignature(opts: VerifySignatureOptions): Promise<Report> {
  const rb = new ReportBuilder("signature");
  const sc = new SingleCheck(rb);
  const now = opts.now ?? new Date();
  const alg = opts.alg ?? "RSASSA_PSS_SHA_256";
  let sig: Bytes;
  let message: Bytes;
  let certs;
  try {
    if (!SUPPORTED_ALGS.has(alg)) throw malformed(`unsupported alg ${String(alg)}`, { field: "alg" });
    if (!(opts.message instanceof Uint8Array)) throw malformed("message must be bytes", { field: "message" });
    message = toBytes(opts.message);
    sig =
      typeof opts.signature === "string"
        ? base64Decode(opts.signature.trim(), "signature", true)
        : toBytes(opts.signature);
    certs = await parseCertificates([opts.certificate], "certificate");
  } catch (e) {
    sc.step("parse", "", [unreadable(e)]);
    return sc.finish("");
  }
  sc.step("parse", "certificate, signature and message read", []);
  const crlInputs = crlInputsOf(opts.crls, "crls", "a CRL given by the caller");
  const { leaf, crl } = await trustAndPath(sc, opts.trust, certs, undefined, crlInputs, now);
  if (!leaf) {
    sc.step("signature", "", [failed(malformed("no end-entity certificate given", { field: "certificate" }))]);
    return sc.finish("");
  }
  const key = await new KeyCache().get(leaf.spki, alg);
  const ok = key ? await verifyRsa(key, alg, message, sig) : false;
  const ps: CheckProblem[] = ok
    ? []
    : [
        failed(
          new VerificationError(
            "ERR_SIG_INVALID",
            `signature does not verify with certificate ${leaf.serial} (${alg})`,
          ),
        ),
      ];
  if (sc.step("signature", `${alg} over the message verifies`, ps)) {
    const at = (opts.at ?? now).getTime();
    const status = validityProblems(undefined, at, leaf);
    if (crl?.revoked.has(leaf.serial)) status.push(noPoe(leaf.serial));
    sc.step("certificate status", "signing time within the certificate's validity; not revoked (CRL)", status);
  }
  return sc.finish("signature verified");
}
