/**
 * Per-entry verdicts for signer certificates over time (README "What each step checks", 7). Position in the
 * chain, not `time`, proves order: an entry below the `key.rotated` / `certificate.revoked` entry
 * for its certificate is PASSED; above it, FAILED SUPERSEDED / REVOKED. A certificate revoked per
 * CRL with no revocation entry in the range stays pending until the end: a verified checkpoint
 * older than the revocation date proves precedence; otherwise INDETERMINATE NO_POE.
 */
import { VerificationError } from "../../errors.js";
import type { EntryFields } from "../../parse/entry.js";
import type { CheckedCert } from "../cert-path/index.js";
import { precedesRevocation, type CrlInfo } from "../crl/index.js";
import { failed, indeterminate, type CheckProblem } from "../problem.js";

/** Entry time within the signer certificate's validity. */
export function validityProblems(seq: number | undefined, time: number, cert: CheckedCert): CheckProblem[] {
  const what = seq === undefined ? "signing time" : `entry ${seq}: time`;
  const where = seq === undefined ? {} : { seq };
  if (time < cert.notBefore) {
    return [
      failed(
        new VerificationError("ERR_NOT_YET_VALID", `${what} is before certificate ${cert.serial} notBefore`, where),
      ),
    ];
  }
  if (time > cert.notAfter) {
    return [
      failed(new VerificationError("ERR_EXPIRED", `${what} is after certificate ${cert.serial} notAfter`, where)),
    ];
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
  /** Per agent: the certificate its latest registration/rotation entry names, and that entry's seq. */
  #current = new Map<string, { serial: string; seq: number }>();
  /** Certificates named by a registration or rotation entry so far. */
  #announced = new Set<string>();
  /** Operations signed by a certificate not (yet) announced, per certificate. */
  #unannounced = new Map<string, Array<PendingEntry & { agent: string; current: { serial: string; seq: number } }>>();
  #crl: CrlInfo | undefined;

  constructor(crl: CrlInfo | undefined) {
    this.#crl = crl;
  }

  /** Status problems for an authentic entry, or "pending" when only the end of the stream can decide. */
  assess(entry: EntryFields, cert: CheckedCert, line?: number): CheckProblem[] | "pending" {
    const seq = entry.seq;
    const revokedAt = this.#revokedAt.get(cert.serial);
    if (revokedAt !== undefined && seq > revokedAt) {
      return [
        failed(
          new VerificationError(
            "ERR_REVOKED",
            `entry ${seq}: signed by certificate ${cert.serial} after its revocation at seq ${revokedAt}`,
            { seq },
          ),
        ),
      ];
    }
    const rotatedAt = this.#rotatedAt.get(cert.serial);
    if (rotatedAt !== undefined && seq > rotatedAt) {
      return [
        failed(
          new VerificationError(
            "ERR_SUPERSEDED",
            `entry ${seq}: signed by certificate ${cert.serial} after its rotation at seq ${rotatedAt}`,
            { seq },
          ),
        ),
      ];
    }
    // The server activates a rotated-in certificate before it appends `key.rotated` (the entry is
    // the rotation's last step), so an operation may be signed by a certificate that a *later*
    // lifecycle entry announces. Such entries wait for the end of the stream: announced by then →
    // fine; never announced → LIFECYCLE_MISMATCH. (An old certificate used after its rotation or
    // revocation is caught above.)
    if (entry.type === "agent.operation") {
      const cur = this.#current.get(entry.agent);
      if (cur && cur.serial !== cert.serial && !this.#announced.has(cert.serial)) {
        const list = this.#unannounced.get(cert.serial) ?? [];
        list.push({ seq, agent: entry.agent, current: cur, ...(line === undefined ? {} : { line }) });
        this.#unannounced.set(cert.serial, list);
        return "pending";
      }
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
    if (d?.type === "key.rotated") this.#announce(entry.agent, d.newCert, entry.seq);
    if (d?.type === "agent.registered") this.#announce(entry.agent, d.cert, entry.seq);
    if (d?.type === "certificate.revoked" && !this.#revokedAt.has(d.cert)) this.#revokedAt.set(d.cert, entry.seq);
  }

  #announce(agent: string, serial: string, seq: number): void {
    this.#current.set(agent, { serial, seq });
    this.#announced.add(serial);
  }

  /**
   * Decides pending entries. `proofTime`: time of a verified checkpoint covering them (a signed
   * statement that they were in the log by then).
   */
  *resolve(proofTime: number | undefined): Generator<PendingEntry & { problem?: CheckProblem }> {
    for (const [serial, list] of this.#pending) {
      for (const p of list) yield this.#crlVerdict(serial, p, proofTime);
    }
    this.#pending.clear();
    for (const [serial, list] of this.#unannounced) {
      const announced = this.#announced.has(serial);
      for (const { agent, current, ...p } of list) {
        // Announced later: the entry is judged like any other of that certificate, CRL included.
        if (announced) yield this.#crlVerdict(serial, p, proofTime);
        else if ((this.#current.get(agent)?.seq ?? -1) > p.seq) {
          // A later registration/rotation of this agent named another certificate: never announced.
          yield {
            ...p,
            problem: failed(
              new VerificationError(
                "ERR_LIFECYCLE",
                `entry ${p.seq}: agent ${agent} signs with certificate ${serial}, which no registration or rotation entry announces (a later one names ${this.#current.get(agent)!.serial})`,
                { seq: p.seq },
              ),
            ),
          };
        } else {
          // The range ends between first use and announcement, which is legal (FORMATS.md): undecided.
          yield {
            ...p,
            problem: indeterminate(
              new VerificationError(
                "ERR_LIFECYCLE",
                `entry ${p.seq}: agent ${agent} signs with certificate ${serial}, not announced by the end of the export (its current certificate is ${current.serial} since seq ${current.seq}); the announcement may follow the range`,
                { seq: p.seq },
              ),
            ),
          };
        }
      }
    }
    this.#unannounced.clear();
  }

  /** CRL status of an authentic entry by `serial`: fine, or NO_POE when the CRL revokes it and nothing proves precedence. */
  #crlVerdict(
    serial: string,
    p: PendingEntry,
    proofTime: number | undefined,
  ): PendingEntry & { problem?: CheckProblem } {
    const crlRev = this.#crl?.revoked.get(serial);
    if (!crlRev) return p;
    const revokedAt = this.#revokedAt.get(serial);
    // A later revocation entry, or a checkpoint older than the CRL's revocation date, proves precedence.
    if (revokedAt !== undefined && p.seq < revokedAt) return p;
    if (proofTime !== undefined && precedesRevocation(proofTime, crlRev)) return p;
    return {
      ...p,
      problem: indeterminate(
        new VerificationError(
          "ERR_NO_POE",
          `entry ${p.seq}: certificate ${serial} is revoked (CRL) and nothing in the export proves the entry precedes the revocation`,
          { seq: p.seq },
        ),
      ),
    };
  }
}

/**
 * Lifecycle details against the certificates (those present in the input): `agent.registered`
 * `cert` and `key.rotated` `oldCert`/`newCert` must be agent certificates of the entry's agent, and
 * a rotation must change the certificate. Certificates absent from the input cannot be checked here.
 */
export function lifecycleProblems(entry: EntryFields, certs: ReadonlyMap<string, CheckedCert>): CheckProblem[] {
  const d = entry.details;
  if (!d) return [];
  const seq = entry.seq;
  const problems: CheckProblem[] = [];
  const ofAgent = (field: string, serial: string) => {
    const c = certs.get(serial);
    if (c && !(c.role === "agent" && c.agentId === entry.agent)) {
      problems.push(
        failed(
          new VerificationError(
            "ERR_LIFECYCLE",
            `entry ${seq}: ${entry.type} details.${field} ${serial} is ${c.role === "agent" ? `agent ${c.agentId}'s certificate` : `a ${c.role} certificate`}, not agent ${entry.agent}'s`,
            { seq, field: `entry.details.${field}` },
          ),
        ),
      );
    }
  };
  if (d.type === "agent.registered" || d.type === "certificate.revoked") ofAgent("cert", d.cert);
  else {
    if (d.oldCert === d.newCert)
      problems.push(
        failed(
          new VerificationError(
            "ERR_LIFECYCLE",
            `entry ${seq}: key.rotated oldCert and newCert are the same certificate`,
            { seq, field: "entry.details.newCert" },
          ),
        ),
      );
    ofAgent("oldCert", d.oldCert);
    ofAgent("newCert", d.newCert);
  }
  return problems;
}
