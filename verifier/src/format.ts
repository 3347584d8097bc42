/** Human-readable summary of a Report (what was checked, counts, failures with seq and reason). */
import type { Report } from "./report.js";

const MARK = { passed: "✓", failed: "✗", skipped: "-", indeterminate: "?" } as const;

/** Formats a report as plain text (no colours), listing at most `maxFindings` findings. */
export function formatReport(report: Report, maxFindings = 50): string {
  const out: string[] = [];
  const s = report.subject;
  out.push(`Kakunin ${report.kind} verification: ${report.verdict}`);
  if (s?.issuer)
    out.push(
      `  issuer: ${s.issuer}${s.agent ? `  agent: ${s.agent}` : ""}${s.seq !== undefined ? `  seq: ${s.seq}` : ""}`,
    );
  if (s?.ca) out.push(`  pinned CA: ${s.ca.subject ?? ""} ${s.ca.fingerprint}`);
  if (s?.certificate) {
    const c = s.certificate;
    out.push(`  certificate: ${c.serial} ${c.subject ?? ""} (${c.role ?? "?"}) valid ${c.notBefore} .. ${c.notAfter}`);
  }
  if (s?.revocation)
    out.push(
      `  revocation: ${s.revocation.status}${s.revocation.date ? ` since ${s.revocation.date}` : ""}${s.revocation.reason ? ` (${s.revocation.reason})` : ""}`,
    );
  if (s?.range)
    out.push(
      `  range: seq ${s.range.from}..${s.range.to}${s.checkpoint ? `, checkpoint size ${s.checkpoint.size} at ${s.checkpoint.time}` : ""}`,
    );
  if (s?.log) {
    const l = s.log;
    out.push(`  checkpoint: ${l.origin} size ${l.size} root ${l.root}; leaf ${l.index}`);
    if (l.witnesses)
      out.push(
        `  witnesses: ${l.witnesses.map((w) => `${w.name} ${w.status}${w.time ? ` ${w.time}` : ""}`).join(", ") || "none in the policy"}; quorum ${l.quorumMet ? "met" : "not met"}`,
      );
  }
  if (s?.poe) {
    const d = s.poe.decidedBy;
    out.push(
      `  proof of existence: ${d ? `${d.tsa.name} at ${d.time} over checkpoint size ${d.checkpoint.size}` : "none decisive"} (${s.poe.indication})`,
    );
  }
  out.push("Steps:");
  for (const st of report.steps) out.push(`  ${MARK[st.status]} ${st.name}${st.detail ? `: ${st.detail}` : ""}`);
  const c = report.counts;
  if (report.kind === "export") {
    out.push(`Entries: ${c.entries} checked, ${c.passed} passed, ${c.failed} failed, ${c.indeterminate} indeterminate`);
  }
  const shown = report.findings.filter((f) => f.verdict !== "PASSED" || report.kind !== "export").slice(0, maxFindings);
  if (shown.length) {
    out.push("Findings:");
    for (const f of shown) {
      const where = [f.seq !== undefined ? `seq ${f.seq}` : "", f.line !== undefined ? `line ${f.line}` : ""]
        .filter(Boolean)
        .join(", ");
      out.push(`  ${f.verdict}${f.reason ? ` ${f.reason}` : ""}${where ? ` (${where})` : ""} ${f.code}: ${f.message}`);
    }
    const more = report.findings.length - shown.length + (report.findingsOmitted ?? 0);
    if (more > 0 && report.kind === "export") out.push(`  … and ${more} more`);
  }
  const otherErrors = report.errors.filter((e) => e.seq === undefined).slice(0, maxFindings);
  if (otherErrors.length) {
    out.push("Errors:");
    for (const e of otherErrors)
      out.push(
        `  ${e.code}${e.line !== undefined ? ` (line ${e.line}${e.field ? `, field ${e.field}` : ""})` : e.field ? ` (field ${e.field})` : ""}: ${e.message}`,
      );
  }
  return out.join("\n") + "\n";
}
