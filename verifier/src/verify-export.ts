/**
 * verifyExport: streams a `kakunin-log/1` export. Memory stays flat: per-certificate state, the
 * previous hash, the current entry, and a bounded number of batches in flight. The heavy per-entry
 * work runs in the SignaturePool; this thread checks order and links in one pass.
 */
import { CertPathError, CrlError, KakuninError, MalformedError, TruncatedError, CheckpointError } from "./errors.js";
import { checkCertificate, type CheckedCert } from "./checks/cert-path/index.js";
import { ChainLinker } from "./checks/chain-links/index.js";
import { authenticateCheckpoint, checkpointCoverage } from "./checks/checkpoint/index.js";
import { loadCrls, staleCrlError, type CrlInfo } from "./checks/crl/index.js";
import { payloadProblems } from "./checks/payload/index.js";
import { failed, indeterminate, type Problem } from "./checks/problem.js";
import { signatureProblems } from "./checks/signatures/index.js";
import { CertStatusTracker, lifecycleProblems, validityProblems } from "./checks/verdict/index.js";
import type { EntryFields } from "./parse/entry.js";
import { parseCertificateLine, parseCrlLine, parseHeader, type ExportHeader } from "./parse/export.js";
import type { Json } from "./parse/fields.js";
import { InThreadPool, type SignaturePool } from "./pool.js";
import { ReportBuilder, type Report } from "./report.js";
import { resolveTrustAnchor, type TrustAnchor } from "./trust/anchor.js";
import { LineVerifier, MAX_LINE_LENGTH, parseLine, type LineResult } from "./worker-core.js";
import { parseCertificatePem, type CertInfo } from "./x509/certificate.js";

/** Options for {@link verifyExport}. */
export interface VerifyExportOptions {
  /** The pinned CA. The export's own CA is never trusted by itself. */
  trust: TrustAnchor;
  /** Where per-entry work runs; default: in this thread. */
  pool?: SignaturePool;
  /** Called after each batch with running totals. */
  onProgress?(p: { lines: number; entries: number }): void;
  /** Time to judge CRL freshness against; default: now. */
  now?: Date;
  /** Lines per batch sent to the pool (default 512). */
  batchSize?: number;
  /** A batch is also sent once its lines reach this many characters (default 1 MiB), so memory stays bounded with long lines. */
  batchChars?: number;
}

const STEP = {
  parse: "parse",
  trust: "trust root",
  certs: "certificate paths",
  crl: "CRL",
  links: "chain links",
  sigs: "entry signatures",
  status: "certificate status",
  payloads: "payloads",
  checkpoint: "checkpoint",
} as const;
type StepName = (typeof STEP)[keyof typeof STEP];

/** The entry whose payload line may still follow. */
interface Current {
  entry: EntryFields;
  line: number;
  problems: Problem[];
  pending: boolean;
}

class ExportVerifier {
  rb = new ReportBuilder("export");
  now: Date;
  pool: SignaturePool;
  opts: VerifyExportOptions;
  /** Problems per step, to report each step's status. */
  stepFailures = new Map<StepName, "failed" | "indeterminate">();

  header?: ExportHeader;
  certLines: { line: number; cert: CertInfo; claims: ReturnType<typeof parseCertificateLine> }[] = [];
  crlLines: { text: string; field: string }[] = [];
  certs = new Map<string, CheckedCert>();
  crl?: CrlInfo;
  ca?: CertInfo;
  linker?: ChainLinker;
  tracker?: CertStatusTracker;
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

  problem(step: StepName, p: Problem, where: { line?: number; seq?: number } = {}): void {
    if (this.stepFailures.get(step) !== "failed") this.stepFailures.set(step, p.level);
    this.rb.error(p.error, p.level, where);
  }

  malformed(e: unknown, line: number): void {
    const err = e instanceof KakuninError ? e : new MalformedError(`line ${line}: ${String(e)}`);
    if (!err.message.startsWith("line ")) err.message = `line ${line}: ${err.message}`;
    this.problem(STEP.parse, failed("FORMAT_FAILURE", err), { line });
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
      this.crlLines.push({ text: parseCrlLine(v), field: `crl (line ${line})` });
    } else if (v.kind === "header") {
      throw new MalformedError("a second header line", { field: "kind" });
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
      this.problem(STEP.trust, failed("UNTRUSTED_ROOT", e as KakuninError), { line: 1 });
      // With a pinned certificate we can still judge the export's certificates against it.
      if ("caCertificate" in (this.opts.trust ?? {})) {
        try {
          this.ca = await resolveTrustAnchor(this.opts.trust, []);
        } catch {
          /* reported above */
        }
      }
    }
    for (const { line, cert, claims } of this.certLines) {
      const checked: CheckedCert = this.ca
        ? await checkCertificate(cert, this.ca)
        : { ...cert, role: "unknown", pathError: new CertPathError(`certificate ${cert.serial}: no trusted CA to check it against`) };
      if (claims.serial !== cert.serial) {
        checked.pathError ??= new CertPathError(`certificate line says serial ${claims.serial}, the certificate has ${cert.serial}`, { field: "serial" });
      }
      if (claims.agent && checked.role === "agent" && claims.agent !== checked.agentId) {
        checked.pathError ??= new CertPathError(`certificate line says agent ${claims.agent}, the certificate is for ${checked.agentId}`, { field: "agent" });
      }
      const prev = this.certs.get(cert.serial);
      if (prev && prev.fingerprint !== cert.fingerprint) {
        checked.pathError ??= new CertPathError(`two different certificates with serial ${cert.serial}`, { field: "serial" });
        prev.pathError ??= checked.pathError;
      }
      if (checked.pathError) this.problem(STEP.certs, failed("CERT_PATH_FAILURE", checked.pathError), { line });
      if (!prev || checked.pathError) this.certs.set(cert.serial, checked);
    }
    if (this.ca) {
      if (this.crlLines.length === 0) this.problem(STEP.crl, failed("REVOCATION_UNKNOWN", new CrlError("the export has no CRL line")));
      const { crl, errors } = await loadCrls(this.crlLines, this.ca, this.now);
      for (const e of errors) this.problem(STEP.crl, failed("REVOCATION_UNKNOWN", e));
      if (crl) this.crl = crl;
      if (crl?.stale) this.problem(STEP.crl, indeterminate("REVOCATION_UNKNOWN", staleCrlError(crl)));
    }
    this.linker = new ChainLinker(h.issuer, h.from, h.prevHash);
    this.tracker = new CertStatusTracker(this.crl);
    const keys = new Map([...this.certs].map(([serial, c]) => [serial, c.spki as Uint8Array]));
    await this.pool.setKeys(keys);
    this.localVerifier.setKeys(keys);
    rb.report.subject = {
      issuer: h.issuer,
      range: { from: h.from, to: h.to },
      exportedAt: new Date(h.exportedAt).toISOString(),
      ...(this.ca ? { ca: { ...(this.ca.subjectCN ? { subject: this.ca.subjectCN } : {}), fingerprint: `sha256:${this.ca.fingerprint}` } } : {}),
    };
  }

  /** Closes the current entry: payload (if any) has had its chance, so its verdict is final. */
  finalise(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    if (c.pending && c.problems.length === 0) return; // decided at the end (NO_POE or proven)
    const first = c.problems.find((p) => p.level === "failed") ?? c.problems[0];
    this.rb.finding(first
      ? { seq: c.entry.seq, line: c.line, verdict: first.level === "failed" ? "FAILED" : "INDETERMINATE", reason: first.reason, code: first.error.code, message: first.error.message }
      : { seq: c.entry.seq, line: c.line, verdict: "PASSED", code: "OK", message: "entry verified" });
  }

  async entry(r: Extract<LineResult, { kind: "entry" }>, line: number): Promise<void> {
    this.finalise();
    this.entries++;
    const e = r.entry;
    const problems: Problem[] = [];
    const add = (step: StepName, ps: Problem[]) => {
      for (const p of ps) {
        problems.push(p);
        this.problem(step, p, { line, seq: e.seq });
      }
    };
    if (this.checkpoint) add(STEP.checkpoint, [failed("CHECKPOINT_FAILURE", new CheckpointError(`entry ${e.seq} after the checkpoint line`, { seq: e.seq }))]);
    add(STEP.links, this.linker!.next(e));
    const cert = this.certs.get(e.signer.cert);
    add(STEP.sigs, signatureProblems(e, r.hashOk, r.sigOk, cert));
    let pending = false;
    if (cert && problems.length === 0) {
      add(STEP.status, validityProblems(e.seq, e.time, cert));
      if (e.details) add(STEP.status, lifecycleProblems(e, this.certs));
      const status = this.tracker!.assess(e, cert, line);
      if (status === "pending") pending = true;
      else add(STEP.status, status);
      if (problems.length === 0) this.tracker!.record(e);
    }
    this.current = { entry: e, line, problems, pending };
  }

  payload(r: Extract<LineResult, { kind: "payload" }>, line: number): void {
    this.payloadLines++;
    const c = this.current;
    if (!c || c.entry.seq !== r.seq) {
      this.malformed(new MalformedError(`payload for seq ${r.seq} does not follow its entry`, { field: "payload.seq" }), line);
      return;
    }
    const ps = payloadProblems(r.seq, c.entry.payloadHash, r.hash);
    for (const p of ps) {
      c.problems.push(p);
      this.problem(STEP.payloads, p, { line, seq: r.seq });
    }
  }

  async result(r: LineResult, line: number): Promise<void> {
    if (r.kind === "malformed") {
      this.finalise();
      this.linker?.reset();
      this.malformed(new MalformedError(r.message, r.field ? { field: r.field } : {}), line);
    } else if (r.kind === "entry") await this.entry(r, line);
    else if (r.kind === "payload") this.payload(r, line);
    else if (r.value.kind === "checkpoint") {
      this.finalise();
      if (this.checkpoint) this.malformed(new MalformedError("a second checkpoint line", { field: "kind" }), line);
      else this.checkpoint = { raw: r.value.checkpoint, line };
    } else if (["header", "certificate", "crl"].includes(r.value.kind as string)) {
      this.malformed(new MalformedError(`${String(r.value.kind)} line after the first entry`, { field: "kind" }), line);
    }
    // Unknown kinds are ignored: the format is extended, never reinterpreted.
  }

  async finish(): Promise<Report> {
    this.finalise();
    const rb = this.rb;
    const h = this.header;
    if (!h) {
      this.problem(STEP.parse, failed("FORMAT_FAILURE", new MalformedError("empty export: no header line", { field: "kind", line: 1 })));
      rb.step(STEP.parse, "failed", "no header");
      rb.report.unreadable = true;
      return rb.build();
    }
    // Checkpoint.
    let proofTime: number | undefined;
    const last = this.linker!.last;
    const present = last ? last.seq + 1 : h.from;
    if (!this.checkpoint) {
      this.problem(STEP.checkpoint, failed("TRUNCATED", new TruncatedError("the export has no checkpoint: its tail cannot be proven complete", { seq: present })));
    } else {
      const { checkpoint, problems } = await authenticateCheckpoint(this.checkpoint.raw, h.issuer, this.certs, this.localVerifier);
      for (const p of problems) this.problem(p.reason === "FORMAT_FAILURE" ? STEP.parse : STEP.checkpoint, p, { line: this.checkpoint.line });
      if (checkpoint) {
        for (const p of checkpointCoverage(checkpoint, last, h.from)) this.problem(STEP.checkpoint, p, { line: this.checkpoint.line });
        proofTime = checkpoint.time;
        rb.report.subject!.checkpoint = { size: checkpoint.size, head: checkpoint.head, time: new Date(checkpoint.time).toISOString() };
      }
    }
    if (present < h.to + 1) {
      this.problem(STEP.checkpoint, failed("TRUNCATED", new TruncatedError(`header range ends at seq ${h.to} but the entries end at ${present - 1}`, { seq: present })));
    } else if (present > h.to + 1) {
      this.problem(STEP.parse, failed("FORMAT_FAILURE", new MalformedError(`entries beyond header range.to ${h.to}`, { field: "header.range.to" })));
    }
    // Entries whose status only the end of the export decides (CRL revocation, certificate announcement).
    for (const p of this.tracker!.resolve(proofTime)) {
      if (p.problem) {
        this.problem(STEP.status, p.problem, { ...(p.line !== undefined ? { line: p.line } : {}), seq: p.seq });
        rb.finding({ seq: p.seq, ...(p.line !== undefined ? { line: p.line } : {}), verdict: p.problem.level === "failed" ? "FAILED" : "INDETERMINATE", reason: p.problem.reason, code: p.problem.error.code, message: p.problem.error.message });
      } else {
        rb.finding({ seq: p.seq, ...(p.line !== undefined ? { line: p.line } : {}), verdict: "PASSED", code: "OK", message: "entry's certificate status decided at the end of the export" });
      }
    }
    this.steps();
    return rb.build();
  }

  steps(): void {
    const detail: Record<StepName, string> = {
      [STEP.parse]: "every line is JSON of the kakunin-log/1 shape",
      [STEP.trust]: `export CA pinned${this.ca ? ` (sha256:${this.ca.fingerprint})` : ""}`,
      [STEP.certs]: `${this.certs.size} certificate(s) issued by the pinned CA, profile checked (EKU documentSigning, keyUsage, CA:FALSE, SPIFFE SAN = CN)`,
      [STEP.crl]: this.crl
        ? `CRL #${this.crl.crlNumber} signed by the pinned CA, ${this.crl.revoked.size} revoked${this.crl.stale ? `; STALE: past its nextUpdate ${new Date(this.crl.nextUpdate!).toISOString()}, later revocations unknown` : ""}`
        : "no valid CRL",
      [STEP.links]: `${this.entries} entries: seq contiguous, prevHash links, issuer`,
      [STEP.sigs]: "hash of canonical bytes (JCS) and RSASSA-PSS signature per entry, signer allowed",
      [STEP.status]: "entry time within certificate validity; position vs rotation/revocation; lifecycle details name the agent's certificates",
      [STEP.payloads]: `${this.payloadLines} payload(s) hashed and compared`,
      [STEP.checkpoint]: "signed by the log signer; size and head match the last entry",
    };
    for (const name of Object.values(STEP)) {
      if (name === STEP.payloads && this.payloadLines === 0 && !this.stepFailures.has(name)) {
        this.rb.step(name, "skipped", "no payloads in the export");
        continue;
      }
      this.rb.step(name, this.stepFailures.get(name) ?? "passed", detail[name]);
    }
  }
}

/**
 * Verifies an exported log (`kakunin-log/1` NDJSON) given as lines, streaming: memory stays flat
 * whatever the export's size. Every line is attacker-controlled; problems become coded errors and
 * per-entry findings, never exceptions (except a broken `lines` iterable itself).
 */
export async function verifyExport(lines: AsyncIterable<string> | Iterable<string>, opts: VerifyExportOptions): Promise<Report> {
  const v = new ExportVerifier(opts);
  const batchSize = opts.batchSize ?? 512;
  const batchChars = opts.batchChars ?? 1 << 20;
  let chars = 0;
  const maxInflight = Math.max(2, v.pool.concurrency ?? 2);
  const inflight: Promise<{ first: number; lineNos: number[]; results: LineResult[] }>[] = [];
  let batch: string[] = [];
  let batchLines: number[] = [];
  let lineNo = 0;

  const drainOne = async () => {
    const { lineNos, results } = await inflight.shift()!;
    for (let i = 0; i < results.length; i++) await v.result(results[i]!, lineNos[i]!);
    opts.onProgress?.({ lines: lineNo, entries: v.entries });
  };
  const dispatch = async () => {
    if (batch.length === 0) return;
    const lines = batch;
    const lineNos = batchLines;
    batch = [];
    batchLines = [];
    chars = 0;
    inflight.push(v.pool.verifyLines(lines).then((results) => ({ first: lineNos[0]!, lineNos, results })));
    while (inflight.length >= maxInflight) await drainOne();
  };

  for await (const raw of lines as AsyncIterable<string>) {
    lineNo++;
    if (typeof raw !== "string") {
      v.malformed(new MalformedError("line is not a string", { field: "(line)" }), lineNo);
      continue;
    }
    if (raw.length > MAX_LINE_LENGTH) {
      await dispatch();
      while (inflight.length) await drainOne();
      v.finalise();
      v.linker?.reset();
      v.malformed(new MalformedError(`line longer than ${MAX_LINE_LENGTH} characters`, { field: "(line)" }), lineNo);
      continue;
    }
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") continue;
    if (!v.body) {
      let value: Json;
      try {
        value = parseLine(line);
      } catch (e) {
        v.malformed(e, lineNo);
        if (!v.header) return v.finish(); // no header: nothing can be judged
        continue;
      }
      if (!v.header || ["certificate", "crl", "header"].includes(value.kind as string)) {
        try {
          await v.preambleLine(value, lineNo);
        } catch (e) {
          v.malformed(e, lineNo);
          if (!v.header) return v.finish();
        }
        continue;
      }
      await v.finishPreamble();
    }
    batch.push(line);
    batchLines.push(lineNo);
    chars += line.length;
    if (batch.length >= batchSize || chars >= batchChars) await dispatch();
  }
  if (v.header && !v.body) await v.finishPreamble();
  await dispatch();
  while (inflight.length) await drainOne();
  opts.onProgress?.({ lines: lineNo, entries: v.entries });
  return v.finish();
}
