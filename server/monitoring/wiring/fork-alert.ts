import type { ForkReport } from "../../log/fork-guard/fork-report.js";
import { makeAlert, type Alert, type Evidence } from "../alert.js";

/**
 * The fork guard's report (server/log/fork-guard/) as a critical `log.fork-suspected` alert about
 * the issuer: stored for `GET /v1/alerts`, logged, sent to the webhook. Never a `key.anomaly` entry:
 * the alert is about that very chain, which is frozen — nothing can be appended to it, and an entry
 * appended after an acknowledgement would sit on the history the operator chose, not the one that
 * was abandoned. The evidence is the whole report: both signed notes verbatim and the split-view
 * text `kakunin-verify consistency` prints (all of it public material: checkpoints and hashes).
 * The id is a hash of the finding: the same fork found again (every restart) is the same alert.
 */
export function forkAlert(r: ForkReport, timeMs: number): Alert {
  const findingKey = [
    "log.fork-suspected",
    r.issuer,
    r.chain
      ? `${r.chain.archived.size}:${r.chain.archived.head}:${r.chain.database.size}:${r.chain.database.head}`
      : "",
    r.tree ? `${r.tree.archived.size}:${r.tree.archived.root}:${r.tree.database.size}` : "",
  ].join("\n");
  return makeAlert({
    findingKey,
    timeMs,
    issuerId: r.issuer,
    agentId: undefined,
    keyArn: undefined,
    kind: "log.fork-suspected",
    severity: "critical",
    summary: `the audit log of issuer ${r.issuer} is frozen: ${r.tree?.conclusive ? `${r.tree.finding} — ` : ""}${r.problem}`,
    evidence: r as unknown as Evidence,
  });
}
