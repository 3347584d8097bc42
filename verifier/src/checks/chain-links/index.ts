/**
 * Chain links, checked in one pass on the main thread: every entry belongs to the export's issuer,
 * seq is contiguous, and prevHash is the previous entry's hash (header.prevHash for the first).
 * After a break the linker resynchronises on the entry seen, so one deletion is one finding.
 */
import { VerificationError } from "../../errors.js";
import { failed, type CheckProblem } from "../problem.js";

export class ChainLinker {
  #issuer: string;
  #expectedSeq: number | null;
  #prevHash: string | null;
  /** Last linked entry (seq and claimed hash). */
  last: { seq: number; hash: string; time: number } | null = null;

  constructor(issuer: string, fromSeq: number, prevHash: string) {
    this.#issuer = issuer;
    this.#expectedSeq = fromSeq;
    this.#prevHash = prevHash;
  }

  /** Checks one entry against its predecessor and advances. */
  next(e: { seq: number; prevHash: string; hash: string; issuer: string; time: number }): CheckProblem[] {
    const problems: CheckProblem[] = [];
    if (e.issuer !== this.#issuer) {
      problems.push(
        failed(
          new VerificationError(
            "ERR_WRONG_ISSUER",
            `entry ${e.seq} belongs to issuer ${e.issuer}, not ${this.#issuer}`,
            { seq: e.seq },
          ),
        ),
      );
    }
    if (this.#expectedSeq !== null && e.seq !== this.#expectedSeq) {
      problems.push(
        failed(
          new VerificationError(
            "ERR_CHAIN_BROKEN",
            `expected seq ${this.#expectedSeq}, found ${e.seq} (entry missing, inserted, duplicated or reordered)`,
            { seq: e.seq },
          ),
        ),
      );
    } else if (this.#prevHash !== null && e.prevHash !== this.#prevHash) {
      problems.push(
        failed(
          new VerificationError("ERR_CHAIN_BROKEN", `entry ${e.seq}: prevHash is not the hash of the previous entry`, {
            seq: e.seq,
          }),
        ),
      );
    }
    this.#expectedSeq = e.seq + 1;
    this.#prevHash = e.hash;
    this.last = { seq: e.seq, hash: e.hash, time: e.time };
    return problems;
  }

  /** The previous line was unreadable: accept the next entry's links as given. */
  reset(): void {
    this.#expectedSeq = null;
    this.#prevHash = null;
  }
}
