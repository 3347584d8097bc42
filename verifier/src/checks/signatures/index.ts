/**
 * Entry hash and signature, as computed by the worker (worker-core.ts), plus who may sign what:
 * agent.operation by the agent's own certificate; lifecycle entries by the log signer.
 */
import { HashMismatchError, SignatureInvalidError, SignerMismatchError, UnknownSignerError } from "../../errors.js";
import { LIFECYCLE_TYPES, type EntryFields } from "../../parse/entry.js";
import type { CheckedCert } from "../cert-path/index.js";
import { failed, type Problem } from "../problem.js";

export function signatureProblems(
  entry: EntryFields,
  hashOk: boolean,
  sigOk: boolean | null,
  cert: CheckedCert | undefined,
): Problem[] {
  const p: Problem[] = [];
  const seq = entry.seq;
  if (!hashOk) p.push(failed("HASH_FAILURE", new HashMismatchError(`entry ${seq}: hash is not SHA-256 of its canonical bytes`, { seq })));
  if (!cert || sigOk === null) {
    p.push(failed("UNKNOWN_SIGNER", new UnknownSignerError(`entry ${seq}: signer certificate ${entry.signer.cert} is not in the input`, { seq })));
    return p;
  }
  if (cert.pathError) p.push(failed("CERT_PATH_FAILURE", cert.pathError));
  if (!sigOk) p.push(failed("SIG_CRYPTO_FAILURE", new SignatureInvalidError(`entry ${seq}: signature does not verify with certificate ${cert.serial}`, { seq })));
  const lifecycle = LIFECYCLE_TYPES.has(entry.type);
  const agentOk = cert.role === "agent" && cert.agentId === entry.agent;
  const allowed = entry.type === "agent.operation" ? agentOk : lifecycle ? cert.role === "log" : agentOk || cert.role === "log";
  if (!allowed) {
    p.push(failed("SIGNER_MISMATCH", new SignerMismatchError(
      `entry ${seq}: ${entry.type} for agent ${entry.agent} may not be signed by ${cert.role} certificate ${cert.serial}${cert.agentId ? ` (agent ${cert.agentId})` : ""}`, { seq })));
  }
  return p;
}
