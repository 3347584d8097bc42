/**
 * One timestamp token as a proof of existence of an entry: the token itself (signature, ESSCertIDv2,
 * TSA certificate, path to the pinned list, TSA revocation), then what it is over (SHA-256 of the
 * checkpoint text) and whether that checkpoint covers the entry. The token's integrity is checked
 * before what it is over, so a tampered token is told apart from a genuine one over another text.
 */
import { parseCheckpoint, type TlogCheckpoint } from "../formats/checkpoint.js";
import { VerificationError } from "../errors.js";
import { base64Encode, bytesEqual, utf8Encode } from "../formats/bytes.js";
import { OID_SHA256 } from "./oids.js";
import type { CheckpointEvidence, ProofOfExistence, TokenAssessment, TsaPolicy } from "./poe-types.js";
import { readTimestampToken, subjectName, certificateSerial, type TimestampTokenInfo } from "./token-info.js";
import { checkTsaRevocation } from "./tsa-revocation.js";
import { verifyTimestampToken, type VerifiedTimestamp } from "./verify-token.js";

/** A genTime this far ahead of the validation clock is refused (clock skew allowance). */
const FUTURE_SKEW_MS = 5 * 60_000;

/** Per-evidence facts computed once for all its tokens. */
export interface EvidenceContext {
  index: number;
  evidence: CheckpointEvidence;
  imprint: Uint8Array;
  /** The parsed checkpoint, or why the text is not one. */
  checkpoint: TlogCheckpoint | { error: string };
}

export async function evidenceContext(index: number, evidence: CheckpointEvidence): Promise<EvidenceContext> {
  const imprint = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8Encode(evidence.checkpointText)));
  let checkpoint: EvidenceContext["checkpoint"];
  try {
    checkpoint = parseCheckpoint(evidence.checkpointText);
  } catch (err) {
    checkpoint = { error: (err as Error).message };
  }
  return { index, evidence, imprint, checkpoint };
}

/** Why the checkpoint does not cover the entry, or undefined when it does. */
function coverageProblem(ctx: EvidenceContext): string | undefined {
  const cp = ctx.checkpoint;
  if ("error" in cp) return `the checkpoint text is not a checkpoint: ${cp.error}`;
  const inc = ctx.evidence.inclusion;
  if (!inc) return "no verified inclusion proof ties the entry to this checkpoint";
  if (inc.treeSize !== cp.size)
    return `the inclusion proof is for a tree of ${inc.treeSize}, the checkpoint is of ${cp.size}`;
  if (!bytesEqual(inc.rootHash, cp.root)) return "the inclusion proof's root is not the checkpoint's root hash";
  if (!Number.isSafeInteger(inc.leafIndex) || inc.leafIndex < 0 || inc.leafIndex >= cp.size)
    return `leaf ${inc.leafIndex} is outside a tree of ${cp.size}`;
  return undefined;
}

function tamperedOrRejected(err: unknown): Pick<TokenAssessment, "status" | "code" | "message"> & {
  tamper?: "FORMAT_FAILURE" | "HASH_FAILURE" | "SIG_CRYPTO_FAILURE";
} {
  if (err instanceof VerificationError) {
    if (err.code === "ERR_TSA_MALFORMED")
      return { status: "tampered", code: err.code, message: err.message, tamper: "FORMAT_FAILURE" };
    if (err.code === "ERR_TSA_SIGNATURE")
      return {
        status: "tampered",
        code: err.code,
        message: err.message,
        tamper: err.field === "messageDigest" ? "HASH_FAILURE" : "SIG_CRYPTO_FAILURE",
      };
    return { status: "rejected", code: err.code, message: err.message };
  }
  // Anything unexpected from parsing hostile DER counts as a malformed token, never as a pass.
  return {
    status: "tampered",
    code: "ERR_TSA_MALFORMED",
    message: `the token could not be checked: ${(err as Error).message}`,
    tamper: "FORMAT_FAILURE",
  };
}

function proofOf(
  ctx: EvidenceContext,
  token: number,
  info: TimestampTokenInfo,
  v: VerifiedTimestamp,
): ProofOfExistence {
  const cp =
    "error" in ctx.checkpoint
      ? { origin: "", size: 0, root: "" }
      : { origin: ctx.checkpoint.origin, size: ctx.checkpoint.size, root: base64Encode(ctx.checkpoint.root) };
  const accuracy = v.accuracyMs ?? 0;
  const poe: ProofOfExistence = {
    time: v.genTime.toISOString(),
    latest: new Date(v.genTime.getTime() + Math.ceil(accuracy)).toISOString(),
    tsa: {
      name: subjectName(v.signer),
      certificateSerial: certificateSerial(v.signer),
      policy: v.policy,
      tokenSerial: info.serialNumber,
    },
    checkpoint: { evidence: ctx.index, ...cp },
    token,
  };
  if (v.accuracyMs !== undefined) poe.accuracyMs = v.accuracyMs;
  return poe;
}

/** Assesses token `token` of an evidence; never throws. `tamper` is set on a tampered token. */
export async function assessToken(
  ctx: EvidenceContext,
  token: number,
  policy: TsaPolicy,
  now: Date,
): Promise<TokenAssessment & { tamper?: "FORMAT_FAILURE" | "HASH_FAILURE" | "SIG_CRYPTO_FAILURE" }> {
  const der = ctx.evidence.tokens[token]!;
  const base = { evidence: ctx.index, token };
  let info: TimestampTokenInfo;
  let verified: VerifiedTimestamp;
  try {
    info = readTimestampToken(der);
    // The token's own imprint is what its signature covers; whether it is this checkpoint's comes after.
    const imprint = info.imprintAlgorithm === OID_SHA256 && info.imprint.length === 32 ? info.imprint : ctx.imprint;
    verified = await verifyTimestampToken(der, {
      imprint,
      trusted: policy.trusted,
      ...(policy.acceptedPolicies ? { acceptedPolicies: policy.acceptedPolicies } : {}),
    });
  } catch (err) {
    return { ...base, ...tamperedOrRejected(err) };
  }
  const poe = proofOf(ctx, token, info, verified);
  if (verified.genTime.getTime() > now.getTime() + FUTURE_SKEW_MS) {
    return {
      ...base,
      status: "rejected",
      code: "ERR_POE_FUTURE",
      message: `genTime ${poe.time} is after the validation time ${now.toISOString()}`,
      poe,
    };
  }
  let tsaRevocation;
  try {
    tsaRevocation = await checkTsaRevocation(verified.path, policy.crls ?? [], new Date(poe.latest), now);
  } catch (err) {
    return { ...base, ...tamperedOrRejected(err), poe };
  }
  const withRev = { ...base, poe, tsaRevocation };
  if (tsaRevocation.verdict === "revoked")
    return {
      ...withRev,
      status: "rejected",
      code: "ERR_TSA_REVOKED",
      message: tsaRevocation.message ?? "the TSA certificate is revoked",
    };
  if (tsaRevocation.verdict === "unknown" && policy.requireRevocationData) {
    return {
      ...withRev,
      status: "rejected",
      code: "ERR_TSA_REVOCATION_UNKNOWN",
      message: `TSA revocation status unknown (${tsaRevocation.message ?? "no CRL"}) and the policy requires it`,
    };
  }
  if (!bytesEqual(info.imprint, ctx.imprint)) {
    return {
      ...withRev,
      status: "rejected",
      code: "ERR_POE_IMPRINT",
      message: "the token is over another text: its imprint is not SHA-256 of this checkpoint text",
    };
  }
  const uncovered = coverageProblem(ctx);
  if (uncovered) return { ...withRev, status: "rejected", code: "ERR_POE_COVERAGE", message: uncovered };
  return {
    ...withRev,
    status: "accepted",
    code: "OK",
    message: `timestamp by ${poe.tsa.name} at ${poe.time} over checkpoint ${poe.checkpoint.origin} size ${poe.checkpoint.size}`,
  };
}
