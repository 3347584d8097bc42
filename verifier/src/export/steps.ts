/** The export report's steps: each one's status (from the problems recorded) and what it checked. */
import { crlDetail, type CrlInfo } from "../checks/crl/index.js";
import { treeStepDetail } from "../checks/tree/index.js";
import type { ReportBuilder } from "../report.js";
import { STEP, type StepName } from "./options.js";

/** What the steps are judged from: the export verifier's state once the export has been read. */
export interface StepsInput {
  rb: ReportBuilder;
  stepFailures: ReadonlyMap<StepName, "failed" | "indeterminate">;
  ca?: { fingerprint: string };
  certs: { size: number };
  crl?: CrlInfo;
  entries: number;
  payloadLines: number;
}

/** Adds every step to the report, once the export has been read. */
export function reportSteps(v: StepsInput): void {
  const detail: Record<StepName, string> = {
    [STEP.parse]: "every line is JSON of the kakunin-log/1 shape",
    [STEP.trust]: `export CA pinned${v.ca ? ` (sha256:${v.ca.fingerprint})` : ""}`,
    [STEP.certs]: `${v.certs.size} certificate(s) issued by the pinned CA, profile checked (EKU documentSigning, keyUsage, CA:FALSE, SPIFFE SAN = CN)`,
    [STEP.crl]: v.crl ? crlDetail(v.crl) : "no valid CRL: revocation status unknown",
    [STEP.links]: `${v.entries} entries: seq contiguous, prevHash links, issuer`,
    [STEP.sigs]: "hash of canonical bytes (JCS) and RSASSA-PSS signature per entry, signer allowed",
    [STEP.status]:
      "entry time within certificate validity; position vs rotation/revocation; lifecycle details name the agent's certificates",
    [STEP.payloads]: `${v.payloadLines} payload(s) hashed and compared`,
    [STEP.checkpoint]: "signed by the log signer; size and head match the last entry",
    [STEP.tree]: treeStepDetail(v.rb.report.tree),
  };
  for (const name of Object.values(STEP)) {
    if (name === STEP.tree && !v.rb.report.tree) continue; // a v1 export, and no tree check asked for
    const unjudged = name === STEP.tree && v.rb.report.tree!.signatures === "not-pinned";
    if (name === STEP.payloads && v.payloadLines === 0 && !v.stepFailures.has(name)) {
      v.rb.step(name, "skipped", "no payloads in the export");
      continue;
    }
    v.rb.step(name, v.stepFailures.get(name) ?? (unjudged ? "skipped" : "passed"), detail[name]);
  }
}
