/** Payloads are outside the chain (DESIGN invariant 7): only their SHA-256 is committed. */
import { PayloadMismatchError } from "../../errors.js";
import { failed, type Problem } from "../problem.js";

export function payloadProblems(seq: number | undefined, expected: string, actual: string): Problem[] {
  if (expected === actual) return [];
  return [failed("PAYLOAD_MISMATCH", new PayloadMismatchError(
    `payload SHA-256 ${actual} differs from the entry's payloadHash ${expected}`, seq === undefined ? {} : { seq }))];
}
