/**
 * The export verifier: judges a `kakunin-log/1` export line by line, in order, from the pool's results
 * (export/feeder.ts). Memory stays flat: per-certificate state, the previous hash, the current entry.
 * This thread checks order and links in one pass; every problem becomes a coded error and a finding.
 */
import { malformed, VerificationError } from "../errors.js";
import { checkCertificate, type CheckedCert } from "../checks/cert-path/index.js";
import { ChainLinker } from "../checks/chain-links/index.js";
import {
  authenticateCheckpoint,
  checkpointCoverage,
  checkpointTimeProblems,
  revokedSignerProblems,
} from "../checks/checkpoint/index.js";
import {
  crlInputs,
  crlSubject,
  loadCrls,
  staleCrlError,
  type CrlArg,
  type CrlInfo,
  type CrlInput,
} from "../checks/crl/index.js";
import { payloadProblems } from "../checks/payload/index.js";
import { failed, findingOf, indeterminate, unreadable, untrustedRoot, type CheckProblem } from "../checks/problem.js";
import { signatureProblems } from "../checks/signatures/index.js";
import { ExportTree, TREE_CHECKPOINT_KIND } from "../checks/tree/index.js";
import { CertStatusTracker, lifecycleProblems, validityProblems } from "../checks/verdict/index.js";
import type { EntryFields } from "../parse/entry.js";
import { parseCertificateLine, parseCrlLine, parseHeader, type ExportHeader } from "../parse/export.js";
import type { Json } from "../parse/fields.js";
import { InThreadPool, type SignaturePool } from "../pool.js";
import { ReportBuilder, type Report } from "../report.js";
import { conflictingSerials } from "../single.js";
import { resolveTrustAnchor } from "../trust/anchor.js";
import { LineVerifier, type LineResult } from "../worker-core.js";
import { parseCertificatePem, type CertInfo } from "../x509/certificate.js";
import { STEP, type StepName, type VerifyExportOptions } from "./options.js";
import { reportSteps } from "./steps.js";

export type { VerifyExportOptions } from "./options.js";

/** The entry whose payload line may still follow. */
interface Current {
  entry: EntryFields;
  line: number;
  problems: CheckProblem[];
  pending: boolean;
}

/** The state of one export's verification: what the preamble established, and the chain so far. */
export class ExportVerifier {
  rb = new ReportBuilder("export");
  now: Date;
  pool: SignaturePool;
  opts: VerifyExportOptions;
  /** Problems per step, to report each step's status. */
  stepFailures = new Map<StepName, "failed" | "indeterminate">();

  header?: ExportHeader;
  certLines: { line: number; cert: CertInfo; claims: ReturnType<typeof parseCertificateLine> }[] = [];
  crlLines: CrlInput[] = [];
  certs = new Map<string, CheckedCert>();
  crl?: CrlInfo;
  ca?: CertInfo;
  linker?: ChainLinker;
  tracker?: CertStatusTracker;
  /** Log v2: the tree over the entries and the tree-checkpoint lines. */
  tree?: ExportTree;
  localVerifier = new LineVerifier();
  current?: Current;
  checkpoint?: { raw: unknown; line: number };
  entries = 0;
  payloadLines = 0;
  body = false;

  constructor(opts: VerifyExportOptions) {
    this.opts = opts;
    this.now = opts.now ?? new Date();
    this.pool = opts.pool ?? new InThreadPool();
  }

  problem(step: StepName, p: CheckProblem, where: { line?: number; seq?: number } = {}): void {
    if (this.stepFailures.get(step) !== "failed") this.stepFailures.set(step, p.level);
    this.rb.error(p.error, p.level, where);
  }

  /** Line `line` could not be read (ERR_MALFORMED, FORMAT_FAILURE, its message naming the line). */
  lineUnreadable(e: unknown, line: number): void {
    const err = e instanceof VerificationError ? e : malformed(`line ${line}: ${String(e)}`);
    if (!err.message.startsWith("line ")) err.message = `line ${line}: ${err.message}`;
    this.problem(STEP.parse, unreadable(err), { line });
  }

  /**
   * An unreadable line inside the body: the current entry's verdict is final, and the next entry's
   * links are accepted as given (a deleted or mangled entry is one finding, not a cascade).
   */
  chainInterrupted(e: unknown, line: number): void {
    this.finalise();
    this.linker?.reset();
    this.lineUnreadable(e, line);
  }

  /** Header, certificate and crl lines are parsed here, on this thread (few and small). */
  async preambleLine(v: Json, line: number): Promise<void> {
    if (!this.header) {
      this.header = parseHeader(v);
      return;
    }
    if (v.kind === "certificate") {
      const claims = parseCertificateLine(v);
      const cert = await parseCertificatePem(claims.pem, "certificate.pem");
      this.certLines.push({ line, cert, claims });
    } else if (v.kind === "crl") {
      this.crlLines.push({ text: parseCrlLine(v), field: `crl (line ${line})`, source: `the export (line ${line})` });
    } else if (v.kind === "header") {
      throw malformed("a second header line", { field: "kind" });
    }
  }

  /** Trust root, certificate paths and CRL: everything entries are judged against. */
  async finishPreamble(): Promise<void> {
    this.body = true;
    const h = this.header!;
    const rb = this.rb;
    try {
      const headerCa = await parseCertificatePem(h.caCertificate, "header.caCertificate");
      this.ca = await resolveTrustAnchor(this.opts.trust, [headerCa]);
    } catch (e) {
      this.problem(STEP.trust, untrustedRoot(e), { line: 1 });
      // With a pinned certificate we can still judge the export's certificates against it.
      if ("caCertificate" in (this.opts.trust ?? {})) {
        try {
          this.ca = await resolveTrustAnchor(this.opts.trust, []);
        } catch {
          /* reported above */
        }
      }
    }
    // Certificate identity: a serial names one certificate. With two different ones, neither is used.
    const conflicts = conflictingSerials(this.certLines.map((c) => c.cert));
    for (const { line, cert, claims } of this.certLines) {
      const checked: CheckedCert = this.ca
        ? await checkCertificate(cert, this.ca)
        : {
            ...cert,
            role: "unknown",
            pathError: new VerificationError(
              "ERR_CERT_PATH",
              `certificate ${cert.serial}: no trusted CA to check it against`,
            ),
          };
      if (claims.serial !== cert.serial) {
        checked.pathError ??= new VerificationError(
          "ERR_CERT_PATH",
          `certificate line says serial ${claims.serial}, the certificate has ${cert.serial}`,
          { field: "serial" },
        );
      }
      if (claims.agent && checked.role === "agent" && claims.agent !== checked.agentId) {
        checked.pathError ??= new VerificationError(
          "ERR_CERT_PATH",
          `certificate line says agent ${claims.agent}, the certificate is for ${checked.agentId}`,
          { field: "agent" },
        );
      }
      const conflict = conflicts.get(cert.serial);
      if (conflict) checked.pathError = conflict;
      const prev = this.certs.get(cert.serial);
      if (checked.pathError) this.problem(STEP.certs, failed(checked.pathError), { line });
      if (!prev || checked.pathError) this.certs.set(cert.serial, checked);
    }
    if (this.ca) {
      const { crl, problems } = await loadCrls(
        [...this.crlLines, ...crlInputs(this.opts.crls, "crls", "a CRL given by the caller")],
        this.ca,
        this.now,
      );
      for (const p of problems) this.problem(STEP.crl, p);
      if (crl) this.crl = crl;
      if (crl?.stale) this.problem(STEP.crl, indeterminate(staleCrlError(crl)));
    }
    this.linker = new ChainLinker(h.issuer, h.from, h.prevHash);
    this.tree = new ExportTree(this.opts, h.issuer, h.from, (p, where) => this.problem(STEP.tree, p, where));
    await this.tree.start();
    this.tracker = new CertStatusTracker(this.crl);
    const keys = new Map([...this.certs].map(([serial, c]) => [serial, c.spki as Uint8Array]));
    await this.pool.setKeys(keys);
    this.localVerifier.setKeys(keys);
    rb.report.subject = {
      issuer: h.issuer,
      range: { from: h.from, to: h.to },
      exportedAt: new Date(h.exportedAt).toISOString(),
      ...(this.ca
        ? {
            ca: {
              ...(this.ca.subjectCN ? { subject: this.ca.subjectCN } : {}),
              fingerprint: `sha256:${this.ca.fingerprint}`,
            },
          }
        : {}),
      ...(this.crl ? { crl: crlSubject(this.crl) } : {}),
    };
  }

  /** Closes the current entry: payload (if any) has had its chance, so its verdict is final. */
  finalise(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    if (c.pending && c.problems.length === 0) return; // decided at the end (NO_POE or proven)
    if (c.problems.length === 0) {
      this.rb.passed(); // the finding of a passed export entry is counted, not kept
      return;
    }
    const first = c.problems.find((p) => p.level === "failed") ?? c.problems[0]!;
    this.rb.finding(findingOf(first, { seq: c.entry.seq, line: c.line }));
  }

  /** One entry's checks, in order; a promise only when the tree's hash is asynchronous. */
  entry(r: Extract<LineResult, { kind: "entry" }>, line: number): void | Promise<void> {
    this.finalise();
    this.entries++;
    const e = r.entry;
    const problems: CheckProblem[] = [];
    if (this.checkpoint)
      this.#add(problems, line, e.seq, STEP.checkpoint, [
        failed(new VerificationError("ERR_CHECKPOINT", `entry ${e.seq} after the checkpoint line`, { seq: e.seq })),
      ]);
    this.#add(problems, line, e.seq, STEP.links, this.linker!.next(e));
    const leaf = this.tree!.leaf(r);
    if (leaf) return leaf.then(() => this.#entryStatus(r, line, problems));
    this.#entryStatus(r, line, problems);
  }

  #add(problems: CheckProblem[], line: number, seq: number, step: StepName, ps: CheckProblem[]): void {
    for (const p of ps) {
      problems.push(p);
      this.problem(step, p, { line, seq });
    }
  }

  /** The rest of {@link entry}: signature, signer, certificate status. */
  #entryStatus(r: Extract<LineResult, { kind: "entry" }>, line: number, problems: CheckProblem[]): void {
    const e = r.entry;
    const cert = this.certs.get(e.signer.cert);
    this.#add(problems, line, e.seq, STEP.sigs, signatureProblems(e, r.hashOk, r.sigOk, cert));
    let pending = false;
    if (cert && problems.length === 0) {
      this.#add(problems, line, e.seq, STEP.status, validityProblems(e.seq, e.time, cert));
      if (e.details) this.#add(problems, line, e.seq, STEP.status, lifecycleProblems(e, this.certs));
      const status = this.tracker!.assess(e, cert, line);
      if (status === "pending") pending = true;
      else this.#add(problems, line, e.seq, STEP.status, status);
      if (problems.length === 0) this.tracker!.record(e);
    }
    this.current = { entry: e, line, problems, pending };
  }

  payload(r: Extract<LineResult, { kind: "payload" }>, line: number): void {
    this.payloadLines++;
    const c = this.current;
    if (!c || c.entry.seq !== r.seq) {
      this.lineUnreadable(
        malformed(`payload for seq ${r.seq} does not follow its entry`, { field: "payload.seq" }),
        line,
      );
      return;
    }
    const ps = payloadProblems(r.seq, c.entry.payloadHash, r.hash);
    for (const p of ps) {
      c.problems.push(p);
      this.problem(STEP.payloads, p, { line, seq: r.seq });
    }
  }

  /** One line's result; a promise only when its handling is asynchronous (not entries, normally). */
  result(r: LineResult, line: number): void | Promise<void> {
    if (r.kind === "blank") return;
    if (r.kind === "malformed") {
      this.chainInterrupted(malformed(r.message, r.field ? { field: r.field } : {}), line);
    } else if (r.kind === "entry") return this.entry(r, line);
    else if (r.kind === "payload") this.payload(r, line);
    else if (r.value.kind === "checkpoint") {
      this.finalise();
      if (this.checkpoint) this.lineUnreadable(malformed("a second checkpoint line", { field: "kind" }), line);
      else this.checkpoint = { raw: r.value.checkpoint, line };
    } else if (r.value.kind === TREE_CHECKPOINT_KIND) {
      this.finalise();
      return this.tree!.line(r.value, line, this.linker!.last?.seq);
    } else if (["header", "certificate", "crl"].includes(r.value.kind as string)) {
      this.lineUnreadable(malformed(`${String(r.value.kind)} line after the first entry`, { field: "kind" }), line);
    }
    // Unknown kinds are ignored: the format is extended, never reinterpreted.
  }

  async finish(): Promise<Report> {
    this.finalise();
    const rb = this.rb;
    const h = this.header;
    if (!h) {
      this.problem(STEP.parse, failed(malformed("empty export: no header line", { field: "kind", line: 1 })));
      rb.step(STEP.parse, "failed", "no header");
      rb.report.unreadable = true;
      return rb.build();
    }
    // Checkpoint.
    let proofTime: number | undefined;
    const last = this.linker!.last;
    const present = last ? last.seq + 1 : h.from;
    if (!this.checkpoint) {
      this.problem(
        STEP.checkpoint,
        failed(
          new VerificationError("ERR_TRUNCATED", "the export has no checkpoint: its tail cannot be proven complete", {
            seq: present,
          }),
        ),
      );
    } else {
      const { checkpoint, problems } = await authenticateCheckpoint(
        this.checkpoint.raw,
        h.issuer,
        this.certs,
        this.localVerifier,
      );
      for (const p of problems)
        this.problem(p.reason === "FORMAT_FAILURE" ? STEP.parse : STEP.checkpoint, p, { line: this.checkpoint.line });
      if (checkpoint) {
        const ps = [
          ...checkpointCoverage(checkpoint, last, h.from),
          ...checkpointTimeProblems(checkpoint, last),
          ...revokedSignerProblems(checkpoint, this.crl),
        ];
        for (const p of ps) this.problem(STEP.checkpoint, p, { line: this.checkpoint.line });
        // Proof of existence only from a checkpoint that is authentic, covers exactly these entries and is trusted.
        if (ps.length === 0) proofTime = checkpoint.time;
        rb.report.subject!.checkpoint = {
          size: checkpoint.size,
          head: checkpoint.head,
          time: new Date(checkpoint.time).toISOString(),
        };
      }
    }
    if (present < h.to + 1) {
      this.problem(
        STEP.checkpoint,
        failed(
          new VerificationError(
            "ERR_TRUNCATED",
            `header range ends at seq ${h.to} but the entries end at ${present - 1}`,
            { seq: present },
          ),
        ),
      );
    } else if (present > h.to + 1) {
      this.problem(
        STEP.parse,
        failed(malformed(`entries beyond header range.to ${h.to}`, { field: "header.range.to" })),
      );
    }
    const tree = await this.tree!.finish();
    if (this.tree!.lines > 0 || this.tree!.asked) rb.report.tree = tree;
    // Entries whose status only the end of the export decides (CRL revocation, certificate announcement).
    for (const p of this.tracker!.resolve(proofTime)) {
      if (p.problem) {
        this.problem(STEP.status, p.problem, { ...(p.line !== undefined ? { line: p.line } : {}), seq: p.seq });
        rb.finding(findingOf(p.problem, { seq: p.seq, ...(p.line !== undefined ? { line: p.line } : {}) }));
      } else {
        rb.finding({
          seq: p.seq,
          ...(p.line !== undefined ? { line: p.line } : {}),
          verdict: "PASSED",
          code: "OK",
          message: "entry's certificate status decided at the end of the export",
        });
      }
    }
    reportSteps(this);
    return rb.build();
  }
}
