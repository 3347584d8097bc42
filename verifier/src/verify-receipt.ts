/**
 * verifyReceipt: one `kakunin-receipt/1` or `kakunin-receipt/2` (what signing returns; what a
 * regulator pastes). v2 adds the log inclusion (checks/log-inclusion) and, with a pinned TSA list,
 * past signature validation over the receipt's timestamps (checks/past-signature).
 */
import { malformed, VerificationError } from "./errors.js";
import { authenticateCheckpoint, checkpointTimeProblems, revokedSignerProblems } from "./checks/checkpoint/index.js";
import { crlInputs as crlInputsOf, precedesRevocation, type CrlArg, type CrlInput } from "./checks/crl/index.js";
import { payloadProblems } from "./checks/payload/index.js";
import { failed, unreadable, type CheckProblem } from "./checks/problem.js";
import { signatureProblems } from "./checks/signatures/index.js";
import { validityProblems } from "./checks/verdict/index.js";
import { parseEntry, type EntryFields } from "./parse/entry.js";
import { parseStrictJson } from "./parse/strict-json.js";
import { isObject, type Json } from "./parse/fields.js";
import { ReportBuilder, type Report } from "./report.js";
import { noPoe, parseCertificates, SingleCheck, trustAndPath } from "./single.js";
import type { TrustAnchor } from "./trust/anchor.js";
import type { TrustMaterial } from "./trust/material.js";
import { entryCanonicalBytes } from "./formats/canonical.js";
import { payloadHash, sha256Hex } from "./formats/hash.js";
import { LineVerifier, MAX_LINE_LENGTH } from "./worker-core.js";
import { RECEIPT_FORMAT, RECEIPT_V2_FORMAT } from "./formats/wire.js";
import type { CertInfo } from "./x509/certificate.js";
import { base64Decode } from "./formats/bytes.js";
import { checkLogInclusion, type LogInclusionResult } from "./checks/log-inclusion/index.js";
import { checkPastSignature } from "./checks/past-signature/index.js";
import { trustMaterialOf, type TrustInput } from "./trust/material.js";
import { receiptValidationReports } from "./report/from-steps.js";
import type { PastSignatureResult } from "./timestamp/poe-types.js";

export { RECEIPT_FORMAT, RECEIPT_V2_FORMAT };

/** Options for {@link verifyReceipt}. */
export interface VerifyReceiptOptions {
  /**
   * The pinned CA, or the whole trust material (CA, log keys, witness policy, TSA list). The CA
   * and log key inside a receipt are informative only.
   */
  trust: TrustAnchor | TrustMaterial;
  /** The payload, to compare with entry.payloadHash: raw bytes, or `{ json }` hashed over its JCS bytes. */
  payload?: Uint8Array | { json: unknown };
  /**
   * Extra CRLs (PEM or base64 DER, optionally labelled with their source): with the receipt's own,
   * the newest valid one decides (highest cRLNumber). See checks/crl for the rule.
   */
  crls?: CrlArg[];
  /** Time for CRL freshness; default now. */
  now?: Date;
}

/**
 * Verifies a receipt given as parsed JSON or as a string. The receipt is attacker-controlled;
 * problems are reported, never thrown. A revoked signer certificate gives INDETERMINATE NO_POE
 * unless the receipt's checkpoint proves the entry was logged before the revocation.
 */
export async function verifyReceipt(receipt: unknown, opts: VerifyReceiptOptions): Promise<Report> {
  const rb = new ReportBuilder("receipt");
  const now = opts.now ?? new Date();
  const trust = trustMaterialOf(opts.trust as TrustInput);
  let tokens: Uint8Array[] = [];
  // Parse.
  let r: Json;
  let entry: EntryFields;
  let certs: CertInfo[];
  let readable = false;
  try {
    let v = receipt;
    if (typeof v === "string") {
      if (v.length > 4 * MAX_LINE_LENGTH) throw malformed("receipt too large", { field: "(receipt)" });
      // A BOM only at the very start (a file's byte 0); strict I-JSON: no duplicate member names.
      v = parseStrictJson(
        (v as string).charCodeAt(0) === 0xfeff ? (v as string).slice(1) : (v as string),
        "(receipt)",
        "receipt",
      );
    }
    if (!isObject(v)) throw malformed("receipt must be a JSON object", { field: "(receipt)" });
    r = v;
    if (r.format !== RECEIPT_FORMAT && r.format !== RECEIPT_V2_FORMAT)
      throw malformed(`receipt.format must be ${RECEIPT_FORMAT} or ${RECEIPT_V2_FORMAT}`, { field: "format" });
    readable = true;
    if (r.format === RECEIPT_V2_FORMAT) tokens = parseV2Members(r);
    entry = parseEntry(r.entry, "entry");
    if (
      !Array.isArray(r.certificates) ||
      r.certificates.length === 0 ||
      !r.certificates.every((c) => typeof c === "string")
    ) {
      throw malformed("receipt.certificates must be a non-empty array of PEM strings", { field: "certificates" });
    }
    if (r.crl !== undefined && r.crl !== null && typeof r.crl !== "string")
      throw malformed("receipt.crl must be a PEM string", { field: "crl" });
    certs = await parseCertificates(r.certificates as string[], "certificates");
  } catch (e) {
    const sc = new SingleCheck(rb);
    sc.step("parse", "", [unreadable(e)]);
    if (!readable) rb.report.unreadable = true;
    return sc.finish("");
  }
  const sc = new SingleCheck(rb, entry.seq);
  sc.step("parse", `receipt is ${r.format as string} with a well-formed entry`, []);
  rb.report.subject = {
    issuer: entry.issuer,
    agent: entry.agent,
    entryType: entry.type,
    seq: entry.seq,
    time: new Date(entry.time).toISOString(),
  };

  const crlInputs: CrlInput[] = [
    ...(typeof r.crl === "string" ? [{ text: r.crl, field: "crl", source: "the receipt" }] : []),
    ...crlInputsOf(opts.crls, "crls", "a CRL given by the caller"),
  ];
  const { leaf, crl, others } = await trustAndPath(sc, trust.ca, certs, entry.signer.cert, crlInputs, now);

  // Entry hash and signature (same code path as the export's workers).
  const bytes = entryCanonicalBytes(r.entry as Json);
  const hashOk = (await sha256Hex(bytes)) === entry.hash;
  // Keys only from the certificate objects that went through path validation: the leaf, then the
  // others (serials are unique among them, or every holder of a shared serial has a pathError).
  const verifier = new LineVerifier(
    new Map([...others, ...(leaf ? [leaf] : [])].map((c) => [c.serial, c.spki] as const)),
  );
  const sigOk = leaf ? await verifier.verifySigned(bytes, entry.signer.cert, entry.signer.alg, entry.sig) : null;
  const sigProblems = signatureProblems(entry, hashOk, sigOk, leaf).filter((p) => p.reason !== "CERT_PATH_FAILURE");
  if (!leaf && !sigProblems.some((p) => p.reason === "UNKNOWN_SIGNER")) {
    sigProblems.push(
      failed(
        new VerificationError("ERR_UNKNOWN_SIGNER", `signer certificate ${entry.signer.cert} is not in the receipt`, {
          seq: entry.seq,
        }),
      ),
    );
  }
  const authentic = sc.step(
    "entry signature",
    "hash of canonical bytes and RSASSA-PSS signature verify; signer matches the agent",
    sigProblems,
  );

  // Log v2: inclusion, the checkpoint's log signature, the witnesses (the entry is judged even
  // when its signature is not, so a forged entry also shows whether the log committed to it).
  let logv2: LogInclusionResult | undefined;
  if (r.format === RECEIPT_V2_FORMAT) {
    logv2 = await checkLogInclusion(r.entry as Json, entry.seq, entry.issuer, r.proof as string, trust, now);
    if (logv2.log) rb.report.subject.log = logv2.log;
    sc.step("log inclusion", logv2.inclusion.detail, logv2.inclusion.problems);
    if (logv2.signature) sc.step("checkpoint signature", logv2.signature.detail, logv2.signature.problems);
    else sc.skip("checkpoint signature", "the tlog proof is unreadable");
    if (logv2.witnesses) sc.step("witness quorum", logv2.witnesses.detail, logv2.witnesses.problems);
    else
      sc.skip("witness quorum", trust.policy ? "the tlog proof is unreadable" : "no witness policy pinned (--policy)");
  }

  // Validity and revocation at the entry's position.
  let psv: PastSignatureResult | undefined;
  if (leaf && authentic) {
    const ps: CheckProblem[] = validityProblems(entry.seq, entry.time, leaf);
    const rev = crl?.revoked.get(leaf.serial);
    let proven = false;
    // Past signature validation: with a pinned TSA list, the receipt's timestamps decide a revoked or expired certificate.
    if (trust.tsa && logv2) {
      const p = await checkPastSignature({
        leaf,
        revocation: rev,
        checkpointText: logv2.checkpointText,
        inclusion: logv2.verified,
        tokens,
        tsa: trust.tsa,
        now,
        seq: entry.seq,
      });
      psv = p.result;
      rb.report.subject.poe = p.poe;
      sc.step("proof of existence", p.result.message, p.problems);
      proven = true; // decided by past signature validation, not by the v1 checkpoint
    } else if (trust.tsa) sc.skip("proof of existence", "a kakunin-receipt/1 carries no timestamps");
    else if (logv2 && tokens.length)
      sc.skip("proof of existence", "no TSA trust list pinned (--tsa): the timestamps are not judged");
    // Checkpoint (optional; verifiable only if the log signer certificate is included).
    const cp = r.checkpoint;
    const logCert = others.find((c) => c.role === "log");
    if (cp === undefined || cp === null) sc.skip("checkpoint", "no checkpoint in the receipt");
    else if (!logCert) sc.skip("checkpoint", "the receipt does not include the log signer certificate");
    else {
      const certMap = new Map([...others, leaf].map((c) => [c.serial, c]));
      const a = await authenticateCheckpoint(cp, entry.issuer, certMap, verifier);
      const cps = [...a.problems];
      let detail = "signed by the log signer";
      const c = a.checkpoint;
      if (c) {
        rb.report.subject.checkpoint = { size: c.size, head: c.head, time: new Date(c.time).toISOString() };
        if (c.size <= entry.seq)
          cps.push(
            failed(
              new VerificationError("ERR_CHECKPOINT", `checkpoint size ${c.size} does not cover seq ${entry.seq}`, {
                seq: entry.seq,
              }),
            ),
          );
        else if (c.size === entry.seq + 1 && c.head !== entry.hash) {
          // Its head is the entry at seq: anything else is a checkpoint of another chain state.
          cps.push(
            failed(
              new VerificationError(
                "ERR_CHECKPOINT",
                `checkpoint size ${c.size} ends at seq ${entry.seq}, but its head is not this entry's hash`,
                { seq: entry.seq },
              ),
            ),
          );
        }
        if (c.size > entry.seq) cps.push(...checkpointTimeProblems(c, { seq: entry.seq, time: entry.time }));
        cps.push(...revokedSignerProblems(c, crl));
        if (cps.length === 0 && c.size === entry.seq + 1) {
          detail = "signed by the log signer; its head is this entry (it covers the entry)";
          if (rev && !psv && precedesRevocation(c.time, rev)) proven = true;
        } else if (cps.length === 0) {
          detail = `signed by the log signer; size ${c.size} is beyond seq ${entry.seq} and kakunin-receipt/1 carries no inclusion proof, so it proves nothing about this entry`;
        }
      }
      sc.step("checkpoint", detail, cps);
    }
    if (rev && !proven) ps.push(noPoe(leaf.serial, entry.seq));
    sc.step("certificate status", "entry time within the certificate's validity; not revoked (CRL)", ps);
  } else {
    sc.skip("certificate status", "the signature was not verified");
  }

  // Payload.
  if (opts.payload !== undefined) {
    let ps: CheckProblem[];
    try {
      ps = payloadProblems(entry.seq, entry.payloadHash, await payloadHash(opts.payload));
    } catch (e) {
      ps = [unreadable(e)];
    }
    sc.step("payload", "SHA-256 of the payload equals entry.payloadHash", ps);
  } else sc.skip("payload", "no payload supplied");
  const report = sc.finish("receipt verified");
  const { simple, detailed } = receiptValidationReports(report, now, psv);
  report.simple = simple;
  report.detailed = detailed;
  return report;
}

/** The v2 members: `proof` a string, `timestamps` (optional) base64 DER tokens. */
function parseV2Members(r: Json): Uint8Array[] {
  if (typeof r.proof !== "string" || r.proof === "")
    throw malformed("receipt.proof must be a c2sp.org/tlog-proof@v1 text", { field: "proof" });
  if (r.timestamps === undefined) return [];
  if (!Array.isArray(r.timestamps) || !r.timestamps.every((t) => typeof t === "string"))
    throw malformed("receipt.timestamps must be an array of base64 DER TimeStampTokens", { field: "timestamps" });
  return (r.timestamps as string[]).map((t, i) => base64Decode(t, `timestamps[${i}]`));
}
