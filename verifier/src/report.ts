/** The report every verify* function returns, and the builder that keeps its memory bounded. */
import type { Reason, VerificationError } from "./errors.js";
import type { ProofOfExistence } from "./timestamp/poe-types.js";
import type { ValidationReports } from "./report/types.js";

export type { Reason };

/** ETSI EN 319 102-1 main indication. */
export type Verdict = "PASSED" | "FAILED" | "INDETERMINATE";

/** One performed (or skipped) step of the ordered checks. */
export interface Step {
  name: string;
  status: "passed" | "failed" | "skipped" | "indeterminate";
  detail?: string;
}

/** A coded problem, located by line and/or seq where it applies. */
export interface ReportError {
  code: string;
  message: string;
  line?: number;
  seq?: number;
  field?: string;
}

/** The verdict on one entry (or on the receipt/signature as a whole). */
export interface Finding {
  seq?: number;
  line?: number;
  verdict: Verdict;
  reason?: Reason;
  /** `OK` for PASSED, else the ERR_… code of the deciding problem. */
  code: string;
  message: string;
}

/** Facts about what was verified, for display. */
export interface ReportSubject {
  issuer?: string;
  agent?: string;
  entryType?: string;
  seq?: number;
  time?: string;
  ca?: { subject?: string; fingerprint: string };
  certificate?: {
    serial: string;
    subject?: string;
    role?: string;
    notBefore: string;
    notAfter: string;
    fingerprint: string;
  };
  revocation?: { status: "good" | "revoked" | "unknown"; date?: string; reason?: string; crlNumber?: string };
  checkpoint?: { size: number; head: string; time: string };
  /** The CRL that decided revocation (the newest valid one available), and whether it may be stale. */
  crl?: { number: string; thisUpdate: string; nextUpdate?: string; source: string; stale: boolean };
  range?: { from: number; to: number };
  /** kakunin-receipt/2: the checkpoint, the inclusion and the witnesses. */
  log?: ReportLog;
  /** Past signature validation (with a pinned TSA list). */
  poe?: ReportPoe;
  exportedAt?: string;
}

/** The signed-note checkpoint of a `kakunin-receipt/2` and the entry's place in it. */
export interface ReportLog {
  origin: string;
  size: number;
  /** Base64 root hash. */
  root: string;
  /** The leaf index the proof is for. */
  index: number;
  /** Names on the note's signature lines (log and witnesses), verified or not. */
  signatures: string[];
  /** The pinned log key(s) whose signature verified (`<name>+<hex id>`). */
  logSignedBy?: string[];
  /** With a policy: every policy witness and whether it cosigned (time: its cosignature's timestamp). */
  witnesses?: { name: string; status: "cosigned" | "missing" | "invalid"; time?: string }[];
  quorumMet?: boolean;
}

/**
 * An export's log v2 tree (checks/tree): recomputed over the entries (only from seq 0), its
 * tree-checkpoint lines checked against it, and the `--since` checkpoint.
 */
export interface ReportTree {
  recomputed: boolean;
  /** Leaves recomputed and the root at that size (base64), when recomputed. */
  size?: number;
  root?: string;
  /** Why the tree was not recomputed (starts after seq 0, entries out of order…). */
  notRecomputed?: string;
  /** The lines' log signatures: all verified, some failed, not judged (no log key pinned), or no lines. */
  signatures: "verified" | "failed" | "not-pinned" | "none";
  checkpoints: {
    lines: number;
    /** Lines whose root equals the recomputed root at their size. */
    rootsMatched: number;
    /** Lines a pinned log key signed. */
    logSigned: number;
    /** The newest line (largest size): the one the witness quorum is judged on. */
    newest?: {
      line: number;
      origin: string;
      size: number;
      root: string;
      signedBy: string[];
      quorumMet?: boolean;
      cosigned?: string[];
      missing?: string[];
    };
  };
  /** `--since OLD`: extended (same root at its size), not-extended (FAILED, with evidence) or not-checked (why). */
  since?: {
    origin?: string;
    size: number;
    root: string;
    status: "extended" | "not-extended" | "not-checked";
    detail: string;
    /** Split-view evidence: both signed notes verbatim (trust/split-view.ts format). */
    evidence?: string;
  };
}

/** Past signature validation of a receipt: which proof of existence decided, and every token's fate. */
export interface ReportPoe {
  /** PASSED / INDETERMINATE / FAILED of past signature validation. */
  indication: "PASSED" | "INDETERMINATE" | "FAILED";
  message: string;
  /** What the proof had to precede: the revocation or the expiry (null: nothing needed). */
  control: { kind: "revocation" | "expiry"; time: string } | null;
  /** The proof of existence that decided (earliest valid timestamp before the control time). */
  decidedBy?: ProofOfExistence;
  tokens: { token: number; status: string; code: string; message: string }[];
}

/** The result of verifyReceipt, verifyExport or verifySignature. */
export interface Report {
  kind: "receipt" | "export" | "signature";
  verdict: Verdict;
  steps: Step[];
  counts: { entries: number; passed: number; failed: number; indeterminate: number };
  /** Non-PASSED entries (for a receipt/signature also its one PASSED finding). Capped; see findingsOmitted. */
  findings: Finding[];
  findingsOmitted?: number;
  /** Set when the input could not be read at all (not the format from its first line, no header), so nothing was judged. */
  unreadable?: boolean;
  errors: ReportError[];
  errorsOmitted?: number;
  subject?: ReportSubject;
  /** Exports: the log v2 tree (recomputed root, tree-checkpoint lines, --since), when there is any to speak of. */
  tree?: ReportTree;
  /** Receipts: the EU DSS-shaped simple report (verifier/FORMATS.md "Validation reports"). */
  simple?: ValidationReports["simple"];
  /** Receipts: the EU DSS-shaped detailed report, one entry per building block. */
  detailed?: ValidationReports["detailed"];
}

/** Caps so a hostile export of millions of bad lines cannot exhaust memory. */
export const MAX_FINDINGS = 10_000;
export const MAX_ERRORS = 10_000;

/** Builds a Report; the overall verdict is derived, never set by hand. */
export class ReportBuilder {
  readonly report: Report;
  #failed = false;
  #indeterminate = false;

  constructor(kind: Report["kind"]) {
    this.report = {
      kind,
      verdict: "PASSED",
      steps: [],
      counts: { entries: 0, passed: 0, failed: 0, indeterminate: 0 },
      findings: [],
      errors: [],
    };
  }

  step(name: string, status: Step["status"], detail?: string): void {
    this.report.steps.push(detail === undefined ? { name, status } : { name, status, detail });
    if (status === "failed") this.#failed = true;
    if (status === "indeterminate") this.#indeterminate = true;
  }

  /** Records a coded problem at the given level. */
  error(
    e: VerificationError,
    level: "failed" | "indeterminate" = "failed",
    where: { line?: number; seq?: number } = {},
  ): void {
    if (level === "failed") this.#failed = true;
    else this.#indeterminate = true;
    if (this.report.errors.length >= MAX_ERRORS) {
      this.report.errorsOmitted = (this.report.errorsOmitted ?? 0) + 1;
      return;
    }
    const r: ReportError = { code: e.code, message: e.message };
    const line = where.line ?? e.line;
    const seq = where.seq ?? e.seq;
    if (line !== undefined) r.line = line;
    if (seq !== undefined) r.seq = seq;
    if (e.field !== undefined) r.field = e.field;
    this.report.errors.push(r);
  }

  /** Counts an entry verdict; stores the finding unless it is a PASSED entry of an export. */
  finding(f: Finding, keepPassed = false): void {
    const c = this.report.counts;
    c.entries++;
    if (f.verdict === "PASSED") c.passed++;
    else if (f.verdict === "FAILED") c.failed++;
    else c.indeterminate++;
    if (f.verdict === "PASSED" && !keepPassed) return;
    if (this.report.findings.length >= MAX_FINDINGS) {
      this.report.findingsOmitted = (this.report.findingsOmitted ?? 0) + 1;
      return;
    }
    this.report.findings.push(f);
  }

  /** Counts a PASSED entry of an export: what finding() does with one (passed findings are not kept). */
  passed(): void {
    this.report.counts.entries++;
    this.report.counts.passed++;
  }

  /** True once anything FAILED. */
  get failed(): boolean {
    return this.#failed || this.report.counts.failed > 0;
  }

  build(): Report {
    const c = this.report.counts;
    this.report.verdict = this.failed
      ? "FAILED"
      : this.#indeterminate || c.indeterminate > 0
        ? "INDETERMINATE"
        : "PASSED";
    return this.report;
  }
}
