/**
 * The simple and detailed reports of a receipt, from the steps its verification ran: each step is
 * one building block (or one of Kakunin's additional blocks), with the step's own status and the
 * code of its first problem — so the DSS-shaped verdict is the report's verdict, by construction.
 */
import type { Report, Step } from "../report.js";
import type { PastSignatureResult } from "../timestamp/poe-types.js";
import { buildValidationReports, type ReportInput } from "./build.js";
import type { BlockOutcome, Indication, ValidationReports } from "./types.js";

const INDICATION: Record<Exclude<Step["status"], "skipped">, Indication> = {
  passed: "PASSED",
  failed: "FAILED",
  indeterminate: "INDETERMINATE",
};

/** Steps (by name) that become Kakunin's additional blocks, in report order. */
const ADDITIONAL = [
  "log inclusion",
  "checkpoint signature",
  "witness quorum",
  "checkpoint",
  "certificate status",
  "payload",
] as const;

function outcomeOf(report: Report, names: readonly string[]): BlockOutcome | undefined {
  const steps = report.steps.filter((s) => names.includes(s.name) && s.status !== "skipped");
  if (steps.length === 0) return undefined;
  const worst =
    steps.find((s) => s.status === "failed") ?? steps.find((s) => s.status === "indeterminate") ?? steps[0]!;
  const o: BlockOutcome = { indication: INDICATION[worst.status as Exclude<Step["status"], "skipped">] };
  if (worst.detail) o.message = `${worst.name}: ${worst.detail}`;
  o.code = worst.status === "passed" ? "OK" : (report.errors.find((e) => e.message === worst.detail)?.code ?? "OK");
  return o;
}

/** DSS-shaped reports of a receipt's verification. `psv` is given when past signature validation ran. */
export function receiptValidationReports(
  report: Report,
  validationTime: Date,
  psv: PastSignatureResult | undefined,
): ValidationReports {
  const s = report.subject ?? {};
  const signer = {
    serial: s.certificate?.serial ?? "",
    ...(s.certificate?.subject ? { subject: s.certificate.subject } : {}),
    ...(s.agent ? { agent: s.agent } : {}),
    ...(s.issuer ? { issuer: s.issuer } : {}),
    ...(s.certificate ? { fingerprint: s.certificate.fingerprint.replace(/^sha256:/, "") } : {}),
    ...(s.certificate ? { notBefore: s.certificate.notBefore, notAfter: s.certificate.notAfter } : {}),
  };
  const input: ReportInput = { validationTime, signer };
  const format = outcomeOf(report, ["parse"]);
  if (format) input.format = format;
  if (format?.indication === "PASSED" && s.certificate) input.identification = { indication: "PASSED", signer };
  else if (format?.indication === "PASSED")
    input.identification = {
      indication: "INDETERMINATE",
      subIndication: "NO_SIGNING_CERTIFICATE_FOUND",
      code: "ERR_UNKNOWN_SIGNER",
      signer,
    };
  const chain = outcomeOf(report, ["trust root", "certificate path"]);
  if (chain) input.x509Chain = chain;
  const crl = outcomeOf(report, ["CRL"]);
  if (crl)
    input.revocationFreshness = {
      ...crl,
      revocation: {
        status: s.revocation?.status ?? "unknown",
        ...(s.revocation?.date ? { date: s.revocation.date } : {}),
      },
    };
  const crypto = outcomeOf(report, ["entry signature"]);
  if (crypto) input.cryptographic = { ...crypto, algorithm: "RSASSA_PSS_SHA_256" };
  input.additional = ADDITIONAL.flatMap((name) => {
    if (!psv && name === "certificate status") return [];
    const o = outcomeOf(report, [name]);
    return o ? [{ name, outcome: o }] : [];
  });
  // The builder lets stale revocation data pass for a revoked certificate (a revocation is final);
  // the verifier already did so, and any INDETERMINATE its CRL step still has must decide here too.
  if (crl?.indication === "INDETERMINATE" && s.revocation?.status === "revoked")
    input.additional.unshift({ name: "CRL", outcome: crl });
  if (psv) input.pastSignature = psv;
  else {
    const status = outcomeOf(report, ["certificate status"]);
    if (status) input.pastSignatureOutcome = status;
  }
  if (s.time) input.claimedSigningTime = s.time;
  return buildValidationReports(input);
}
