/**
 * Past signature validation of a receipt (timestamp/poe.ts): the receipt's `timestamps` over the
 * checkpoint its inclusion proof covers are the proofs of existence, judged under the pinned TSA
 * list. Turns the PSV result into the step's problems and the report's `poe`.
 */
import { VerificationError } from "../../errors.js";
import type { ReportPoe } from "../../report.js";
import { validatePastSignature } from "../../timestamp/poe.js";
import type { PastSignatureResult, TsaPolicy, VerifiedInclusion } from "../../timestamp/poe-types.js";
import type { Revocation } from "../crl/index.js";
import type { CheckedCert } from "../cert-path/index.js";
import { failed, indeterminate, type CheckProblem } from "../problem.js";

export interface PastSignatureCheck {
  result: PastSignatureResult;
  problems: CheckProblem[];
  poe: ReportPoe;
}

/** Runs PSV for `leaf` (revocation from the CRL in force) with tokens over `checkpointText`. */
export async function checkPastSignature(input: {
  leaf: CheckedCert;
  revocation: Revocation | undefined;
  checkpointText: string | undefined;
  inclusion: VerifiedInclusion | undefined;
  tokens: readonly Uint8Array[];
  tsa: TsaPolicy;
  now: Date;
  seq: number;
}): Promise<PastSignatureCheck> {
  const { leaf, revocation, seq } = input;
  const result = await validatePastSignature({
    certificate: {
      serial: leaf.serial,
      ...(leaf.subjectCN ? { subject: leaf.subjectCN } : {}),
      notBefore: leaf.notBefore,
      notAfter: leaf.notAfter,
      ...(revocation ? { revocation } : {}),
    },
    evidence:
      input.checkpointText === undefined
        ? []
        : [
            {
              checkpointText: input.checkpointText,
              ...(input.inclusion ? { inclusion: input.inclusion } : {}),
              tokens: input.tokens,
            },
          ],
    tsa: input.tsa,
    now: input.now,
  });
  const where = { seq, field: "timestamps" };
  const problems: CheckProblem[] = [];
  if (result.indication === "FAILED") {
    const code = result.subIndication === "NOT_YET_VALID" ? "ERR_NOT_YET_VALID" : "ERR_TIMESTAMP";
    problems.push(failed(new VerificationError(code, result.message, where)));
  } else if (result.indication === "INDETERMINATE") {
    const code = result.subIndication === "EXPIRED_NO_POE" ? "ERR_EXPIRED_NO_POE" : "ERR_NO_POE";
    problems.push(indeterminate(new VerificationError(code, result.message, where)));
  }
  const poe: ReportPoe = {
    indication: result.indication,
    message: result.message,
    control: result.control ? { kind: result.control.kind, time: result.control.time } : null,
    ...(result.decidingPoe ? { decidedBy: result.decidingPoe } : {}),
    tokens: result.tokens.map((t) => ({ token: t.token, status: t.status, code: t.code, message: t.message })),
  };
  return { result, problems, poe };
}
