/** Payloads are outside the chain (FORMATS.md "Entry"): only their SHA-256, `payloadHash`, is signed. */
import { VerificationError } from "../../errors.js";
import { failed, type CheckProblem } from "../problem.js";

export function payloadProblems(seq: number | undefined, expected: string, actual: string): CheckProblem[] {
  if (expected === actual) return [];
  return [
    failed(
      new VerificationError(
        "ERR_PAYLOAD_MISMATCH",
        `payload SHA-256 ${actual} differs from the entry's payloadHash ${expected}`,
        seq === undefined ? {} : { seq },
      ),
    ),
  ];
}
