/**
 * Entry hash and signature, as computed by the worker (worker-core.ts), plus who may sign what:
 * agent.operation by the agent's own certificate; lifecycle entries by the log signer.
 */
import { VerificationError } from "../../errors.js";
import { isLifecycleType } from "../../formats/wire.js";
import type { EntryFields } from "../../parse/entry.js";
import type { CheckedCert } from "../cert-path/index.js";
import { failed, type CheckProblem } from "../problem.js";

export function signatureProblems(
  entry: EntryFields,
  hashOk: boolean,
  sigOk: boolean | null,
  cert: CheckedCert | undefined,
): CheckProblem[] {
  const p: CheckProblem[] = [];
  const seq = entry.seq;
  if (!hashOk)
    p.push(
      failed(
        new VerificationError("ERR_HASH_MISMATCH", `entry ${seq}: hash is not SHA-256 of its canonical bytes`, { seq }),
      ),
    );
  if (!cert || sigOk === null) {
    p.push(
      failed(
        new VerificationError(
          "ERR_UNKNOWN_SIGNER",
          `entry ${seq}: signer certificate ${entry.signer.cert} is not in the input`,
          { seq },
        ),
      ),
    );
    return p;
  }
  if (cert.pathError) p.push(failed(cert.pathError));
  if (!sigOk)
    p.push(
      failed(
        new VerificationError(
          "ERR_SIG_INVALID",
          `entry ${seq}: signature does not verify with certificate ${cert.serial}`,
          { seq },
        ),
      ),
    );
  const lifecycle = isLifecycleType(entry.type);
  const agentOk = cert.role === "agent" && cert.agentId === entry.agent;
  const allowed =
    entry.type === "agent.operation" ? agentOk : lifecycle ? cert.role === "log" : agentOk || cert.role === "log";
  if (!allowed) {
    p.push(
      failed(
        new VerificationError(
          "ERR_SIGNER_MISMATCH",
          `entry ${seq}: ${entry.type} for agent ${entry.agent} may not be signed by ${cert.role} certificate ${cert.serial}${cert.agentId ? ` (agent ${cert.agentId})` : ""}`,
          { seq },
        ),
      ),
    );
  }
  return p;
}
