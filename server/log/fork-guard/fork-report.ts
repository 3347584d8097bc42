/**
 * What the fork guard tells when it freezes an issuer: the problem, the v1 chain's disagreement
 * and the log v2 tree's split-view evidence (tree-evidence.ts). The guard logs it at error level
 * and hands it to its listeners — the server raises it as a `log.fork-suspected` alert
 * (server/monitoring/wiring/fork-alert.ts): `GET /v1/alerts`, the webhook, pino.
 */
import type { Baseline } from "./archive.js";
import type { TreeForkEvidence } from "./tree-evidence.js";

export interface ForkReport {
  issuer: string;
  /** the frozen reason (the detail of ERR_CHAIN_FORK_SUSPECTED) */
  problem: string;
  /** when the guard found it, ISO 8601 */
  detectedAt: string;
  /** the v1 hash chain against its archived checkpoint, when that disagrees */
  chain: { problem: string; archived: Baseline; database: { size: number; head: string } } | null;
  /** the v2 Merkle tree against its archived signed note, when that disagrees */
  tree: TreeForkEvidence | null;
}

/** The report as one log message: the problem, then the evidence text `kakunin-verify consistency` prints. */
export function forkReportText(r: ForkReport): string {
  let out = `fork suspected on issuer ${r.issuer}: ${r.problem}`;
  if (r.tree) {
    out += `\nlog v2: ${r.tree.finding}`;
    if (r.tree.splitView) out += `\n${r.tree.splitView}`;
    else if (r.tree.archived.note)
      out += `\narchived checkpoint (the database holds ${r.tree.database.size} leaves and no signed note to set against it):\n${r.tree.archived.note}`;
  }
  return out;
}
