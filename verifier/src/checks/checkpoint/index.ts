/**
 * The checkpoint: signed by the log signer over JCS(checkpoint without sig); its size and head
 * must match the last entry. Missing, or larger than what is present → ERR_TRUNCATED.
 */
import { VerificationError } from "../../errors.js";
import { parseCheckpoint, type CheckpointFields } from "../../parse/entry.js";
import type { Json } from "../../parse/fields.js";
import { checkpointCanonicalBytes } from "../../formats/canonical.js";
import type { LineVerifier } from "../../worker-core.js";
import type { CheckedCert } from "../cert-path/index.js";
import { precedesRevocation, type CrlInfo } from "../crl/index.js";
import { failed, indeterminate, unreadable, type CheckProblem } from "../problem.js";

/** Authenticates a checkpoint (attacker-controlled). Returns its fields when authentic, plus problems. */
export async function authenticateCheckpoint(
  raw: unknown,
  issuer: string,
  certs: ReadonlyMap<string, CheckedCert>,
  verifier: LineVerifier,
): Promise<{ checkpoint?: CheckpointFields; problems: CheckProblem[] }> {
  let cp: CheckpointFields;
  try {
    cp = parseCheckpoint(raw);
  } catch (e) {
    return { problems: [unreadable(e)] };
  }
  const problems: CheckProblem[] = [];
  const bad = (msg: string) => problems.push(failed(new VerificationError("ERR_CHECKPOINT", `checkpoint: ${msg}`)));
  const cert = certs.get(cp.signer.cert);
  if (!cert) bad(`signer certificate ${cp.signer.cert} is not in the input`);
  else {
    if (cert.role !== "log") bad(`signed by ${cert.role} certificate ${cert.serial}, not the log signer`);
    if (cert.pathError) bad(`log signer certificate: ${cert.pathError.message}`);
    if (cp.time < cert.notBefore || cp.time > cert.notAfter)
      bad("time is outside the log signer certificate's validity");
    let bytes;
    try {
      bytes = checkpointCanonicalBytes(raw as Json);
    } catch (e) {
      return { problems: [unreadable(e)] };
    }
    const ok = await verifier.verifySigned(bytes, cp.signer.cert, cp.signer.alg, cp.sig);
    if (!ok) bad("signature does not verify with the log signer certificate");
  }
  if (cp.issuer !== issuer) bad(`issuer ${cp.issuer} is not ${issuer}`);
  return problems.length ? { problems } : { checkpoint: cp, problems };
}

/**
 * A checkpoint signed by a log-signer certificate that the CRL revokes proves nothing from the
 * revocation on (the key may be an attacker's): not existence, not completeness. Indeterminate,
 * since the revocation may have been routine; the entries it would have covered lose that proof.
 */
export function revokedSignerProblems(cp: CheckpointFields, crl: CrlInfo | undefined): CheckProblem[] {
  const rev = crl?.revoked.get(cp.signer.cert);
  if (!rev || precedesRevocation(cp.time, rev)) return [];
  return [
    indeterminate(
      new VerificationError(
        "ERR_CHECKPOINT",
        `checkpoint of ${new Date(cp.time).toISOString()} is signed by log signer certificate ${cp.signer.cert}, revoked at ${new Date(rev.date).toISOString()} (CRL #${crl!.crlNumber}): it proves nothing`,
      ),
    ),
  ];
}

/** A checkpoint is made after the entries it covers: its `time` is never before the last one's. */
export function checkpointTimeProblems(
  cp: CheckpointFields,
  last: { seq: number; time: number } | null,
): CheckProblem[] {
  if (!last || cp.time >= last.time) return [];
  return [
    failed(
      new VerificationError(
        "ERR_CHECKPOINT",
        `checkpoint time ${new Date(cp.time).toISOString()} is before the time of entry ${last.seq} it covers (${new Date(last.time).toISOString()})`,
        { seq: last.seq },
      ),
    ),
  ];
}

/** Compares an authentic checkpoint with the chain's tail (`last` = last entry seen, null if none). */
export function checkpointCoverage(
  cp: CheckpointFields,
  last: { seq: number; hash: string } | null,
  fromSeq: number,
): CheckProblem[] {
  const present = last ? last.seq + 1 : fromSeq;
  if (cp.size > present) {
    return [
      failed(
        new VerificationError("ERR_TRUNCATED", `checkpoint says ${cp.size} entries but the export ends at ${present}`, {
          seq: present,
        }),
      ),
    ];
  }
  if (cp.size < present) {
    return [
      failed(
        new VerificationError(
          "ERR_CHECKPOINT",
          `entries beyond the checkpoint (size ${cp.size}, found up to seq ${present - 1})`,
          { seq: cp.size },
        ),
      ),
    ];
  }
  const head = last ? last.hash : null;
  if (head !== null && head !== cp.head) {
    return [
      failed(
        new VerificationError("ERR_CHECKPOINT", `checkpoint head is not the hash of entry ${present - 1}`, {
          seq: present - 1,
        }),
      ),
    ];
  }
  return [];
}
