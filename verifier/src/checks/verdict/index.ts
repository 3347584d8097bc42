/**
 * Per-entry verdicts for signer certificates over time (DESIGN "Verification"). Position in the
 * chain, not `time`, proves order: an entry below the `key.rotated` / `certificate.revoked` entry
 * for its certificate is PASSED; above it, FAILED SUPERSEDED / REVOKED. A certificate revoked per
 * CRL with no revocation entry in the range stays pending until the end: a verified checkpoint
 * older than the revocation date proves precedence; otherwise INDETERMINATE NO_POE.
 */
import { ExpiredError, NoPoeError, NotYetValidError, RevokedError, SupersededError } from "../../errors.js";
import type { EntryFields } from "../../parse/entry.js";
import type { CheckedCert } from "../cert-path/index.js";
import type { CrlInfo } from "../crl/index.js";
import { failed, indeterminate, type Problem } from "../problem.js";

/** Entry time within the signer certificate's validity. */
export function validityProblems(seq: number | undefined, time: number, cert: CheckedCert): Problem[] {
  const what = seq === undefined ? "signing time" : `entry ${seq}: time`;
  const where = seq === undefined ? {} : { seq };
  if (time < cert.notBefore) {
    return [failed("NOT_YET_VALID", new NotYetValidError(`${what} is before certificate ${cert.serial} notBefore`, where))];
  }
  if (time > cert.notAfter) {
    return [failed("EXPIRED", new ExpiredError(`${what} is after certificate ${cert.serial} notAfter`, where))];
  }
  return [];
}

/** A deferred entry waiting for proof of existence before its certificate's revocation. */
export interface PendingEntry {
  seq: number;
  line?: number;
}

/** Tracks rotations/revocations seen in the chain; state is per certificate, never per entry (except pending NO_POE candidates). */
export class CertStatusTracker {
  #rotatedAt = new Map<string, number>();
  #revokedAt = new Map<string, number>();
  #pending = new Map<string, PendingEntry[]>();
  #crl: CrlInfo | undefined;

  constructor(crl: CrlInfo | undefined) {
    this.#crl = crl;
  }

  /** Status problems for an authentic entry, or "pending" when only the end of the stream can decide. */
  assess(entry: EntryFields, cert: CheckedCert, line?: number): Problem[] | "pending" {
    const seq = entry.seq;
    const revokedAt = this.#revokedAt.get(cert.serial);
    if (revokedAt !== undefined && seq > revokedAt) {
      return [failed("REVOKED", new RevokedError(`entry ${seq}: signed by certificate ${cert.serial} after its revocation at seq ${revokedAt}`, { seq }))];
    }
    const rotatedAt = this.#rotatedAt.get(cert.serial);
    if (rotatedAt !== undefined && seq > rotatedAt) {
      return [failed("SUPERSEDED", new SupersededError(`entry ${seq}: signed by certificate ${cert.serial} after its rotation at seq ${rotatedAt}`, { seq }))];
    }
    if (revokedAt === undefined && this.#crl?.revoked.has(cert.serial)) {
      const list = this.#pending.get(cert.serial) ?? [];
      list.push(line === undefined ? { seq } : { seq, line });
      this.#pending.set(cert.serial, list);
      return "pending";
    }
    return [];
  }

  /** Applies an authentic lifecycle entry. */
  record(entry: EntryFields): void {
    const d = entry.details;
    if (d?.type === "key.rotated" && !this.#rotatedAt.has(d.oldCert)) this.#rotatedAt.set(d.oldCert, entry.seq);
    if (d?.type === "certificate.revoked" && !this.#revokedAt.has(d.cert)) this.#revokedAt.set(d.cert, entry.seq);
  }

  /**
   * Decides pending entries. `proofTime`: time of a verified checkpoint covering them (a signed
   * statement that they were in the log by then).
   */
  *resolve(proofTime: number | undefined): Generator<PendingEntry & { problem?: Problem }> {
    for (const [serial, list] of this.#pending) {
      const revokedAt = this.#revokedAt.get(serial);
      const crlDate = this.#crl?.revoked.get(serial)?.date;
      for (const p of list) {
        // A later revocation entry, or a checkpoint older than the CRL's revocation date, proves precedence.
        if (revokedAt !== undefined && p.seq < revokedAt) yield p;
        else if (proofTime !== undefined && crlDate !== undefined && proofTime < crlDate) yield p;
        else {
          yield { ...p, problem: indeterminate("NO_POE", new NoPoeError(
            `entry ${p.seq}: certificate ${serial} is revoked (CRL) and nothing in the export proves the entry precedes the revocation`, { seq: p.seq })) };
        }
      }
    }
    this.#pending.clear();
  }
}
