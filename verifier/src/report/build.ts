/**
 * Builds the simple and detailed reports from the building blocks' outcomes and the past
 * signature validation result. The verdict is derived here, never passed in: the first FAILED
 * block (format, identification, X.509 chain, cryptographic, past signature validation) decides;
 * else the first INDETERMINATE one, where stale or missing revocation data counts only while the
 * certificate is not known to be revoked (a revocation is final, and past signature validation
 * then decides against its date); else PASSED.
 */
import type { PastSignatureResult } from "../timestamp/poe-types.js";
import type {
  BestPoe,
  BlockOutcome,
  BuildingBlock,
  ChainCertificate,
  DetailedReport,
  Indication,
  RevocationFacts,
  SignerIdentity,
  SubIndication,
  ValidationReports,
} from "./types.js";

export interface ReportInput {
  validationTime: Date;
  /** Each block's outcome; an absent block was not run (an earlier one decided) and shows NOT_EVALUATED. */
  format?: BlockOutcome;
  identification?: BlockOutcome & { signer: SignerIdentity };
  x509Chain?: BlockOutcome & { chain?: ChainCertificate[] };
  revocationFreshness?: BlockOutcome & { revocation: RevocationFacts };
  cryptographic?: BlockOutcome & { algorithm?: string };
  pastSignature?: PastSignatureResult;
  /**
   * The past-signature block's outcome when no {@link PastSignatureResult} decided it (e.g. a
   * kakunin-receipt/1 whose own checkpoint covers the entry); ignored when `pastSignature` is given.
   */
  pastSignatureOutcome?: BlockOutcome;
  /**
   * Kakunin's blocks beyond ETSI's, judged like the cryptographic check (a FAILED one decides,
   * then an INDETERMINATE one): the log inclusion of a kakunin-receipt/2 (inclusion proof,
   * checkpoint signature, witness quorum), the entry's validity period, the payload.
   */
  additional?: { name: string; outcome: BlockOutcome }[];
  /** The entry's own `time`. */
  claimedSigningTime?: string;
  /** Signer facts to show when identification did not run (e.g. only a serial is known). */
  signer?: SignerIdentity;
}

const NOT_EVALUATED: BuildingBlock = { indication: "NOT_EVALUATED" };

function block(o: BlockOutcome | undefined): BuildingBlock {
  if (!o) return { ...NOT_EVALUATED };
  const b: BuildingBlock = { indication: o.indication };
  if (o.subIndication) b.subIndication = o.subIndication;
  if (o.code) b.code = o.code;
  if (o.message) b.message = o.message;
  return b;
}

function psvBlock(r: PastSignatureResult | undefined, fallback?: BlockOutcome): BlockOutcome | undefined {
  if (!r) return fallback;
  // FAILED: the tampered token's ERR_TSA_* code, or ERR_NOT_YET_VALID; INDETERMINATE: ERR_NO_POE.
  const tampered = r.tokens.find((t) => t.status === "tampered")?.code;
  const code =
    r.indication === "PASSED"
      ? "OK"
      : r.indication === "INDETERMINATE"
        ? "ERR_NO_POE"
        : r.subIndication === "NOT_YET_VALID"
          ? "ERR_NOT_YET_VALID"
          : (tampered ?? "ERR_TSA_MALFORMED");
  const o: BlockOutcome = { indication: r.indication, code, message: r.message };
  if (r.subIndication) o.subIndication = r.subIndication;
  return o;
}

function verdictOf(input: ReportInput): { verdict: Indication; reason?: SubIndication; message: string } {
  const psv = psvBlock(input.pastSignature, input.pastSignatureOutcome);
  const extra = (input.additional ?? []).map((a): [string, BlockOutcome | undefined] => [a.name, a.outcome]);
  const named: [string, BlockOutcome | undefined][] = [
    ["format", input.format],
    ["identification", input.identification],
    ["X.509 chain", input.x509Chain],
    ["cryptographic check", input.cryptographic],
    ...extra,
    ["past signature validation", psv],
  ];
  const decide = (name: string, o: BlockOutcome) => ({
    verdict: o.indication,
    ...(o.subIndication ? { reason: o.subIndication } : {}),
    message: `${name}: ${o.message ?? o.code ?? o.indication}`,
  });
  // A FAILED revocation block (a CRL not signed by the pinned CA: tampering) decides like the others.
  const failed = [
    ...named.slice(0, 3),
    ["revocation freshness", input.revocationFreshness] as const,
    ...named.slice(3),
  ].find(([, o]) => o?.indication === "FAILED");
  if (failed) return decide(failed[0], failed[1]!);
  const early = named.slice(0, -1).find(([, o]) => o?.indication === "INDETERMINATE");
  if (early) return decide(early[0], early[1]!);
  const rev = input.revocationFreshness;
  if (rev?.indication === "INDETERMINATE" && rev.revocation.status !== "revoked")
    return decide("revocation freshness", rev);
  if (psv?.indication === "INDETERMINATE") return decide("past signature validation", psv);
  const missing = [...named, ["revocation freshness", rev] as [string, BlockOutcome | undefined]].find(([, o]) => !o);
  if (missing) return { verdict: "INDETERMINATE", message: `${missing[0]} was not evaluated` };
  return { verdict: "PASSED", message: input.pastSignature?.message ?? "every building block passed" };
}

function bestPoeOf(r: PastSignatureResult | undefined): BestPoe | null {
  const best = r?.decidingPoe ?? r?.bestPoe;
  if (!best) return null;
  return {
    time: best.time,
    latest: best.latest,
    tsa: best.tsa.name,
    checkpoint: { origin: best.checkpoint.origin, size: best.checkpoint.size },
    decisive: r?.decidingPoe !== undefined,
  };
}

/** The simple and detailed report of one signature. Pure. */
export function buildValidationReports(input: ReportInput): ValidationReports {
  const { verdict, reason, message } = verdictOf(input);
  const signer = input.identification?.signer ?? input.signer ?? { serial: "" };
  const validationTime = input.validationTime.toISOString();
  const head = {
    validationTime,
    verdict,
    ...(reason ? { reason } : {}),
    message,
    ...(input.claimedSigningTime ? { claimedSigningTime: input.claimedSigningTime } : {}),
  };
  const psv = input.pastSignature;
  const pastSignatureValidation: DetailedReport["blocks"]["pastSignatureValidation"] = {
    ...block(psvBlock(psv, input.pastSignatureOutcome)),
    control: psv?.control ?? null,
  };
  if (psv?.decidingPoe) pastSignatureValidation.decidingPoe = psv.decidingPoe;
  const cryptographic: DetailedReport["blocks"]["cryptographic"] = block(input.cryptographic);
  if (input.cryptographic?.algorithm) cryptographic.algorithm = input.cryptographic.algorithm;
  const poe: DetailedReport["poe"] = { tokens: psv?.tokens ?? [] };
  if (psv?.bestPoe) poe.best = psv.bestPoe;
  return {
    simple: { format: "kakunin-simple-report/1", ...head, signer, bestPoe: bestPoeOf(psv) },
    detailed: {
      format: "kakunin-detailed-report/1",
      ...head,
      blocks: {
        format: block(input.format),
        identification: { ...block(input.identification), signer },
        x509Chain: { ...block(input.x509Chain), chain: input.x509Chain?.chain ?? [] },
        revocationFreshness: {
          ...block(input.revocationFreshness),
          revocation: input.revocationFreshness?.revocation ?? { status: "unknown" },
        },
        cryptographic,
        pastSignatureValidation,
        ...(input.additional?.length
          ? { additional: input.additional.map((a) => ({ name: a.name, ...block(a.outcome) })) }
          : {}),
      },
      poe,
    },
  };
}
