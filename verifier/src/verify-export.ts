/**
 * verifyExport: streams a `kakunin-log/1` export. Memory stays flat: per-certificate state, the
 * previous hash, the current entry, and a bounded number of batches in flight. The heavy per-entry
 * work runs in the SignaturePool; this thread checks order and links in one pass.
 */
import { malformed, VerificationError } from "./errors.js";
import { checkCertificate, type CheckedCert } from "./checks/cert-path/index.js";
import { ChainLinker } from "./checks/chain-links/index.js";
import { authenticateCheckpoint, checkpointCoverage, checkpointTimeProblems, revokedSignerProblems } from "./checks/checkpoint/index.js";
import { crlDetail, crlInputs, crlSubject, loadCrls, staleCrlError, type CrlArg, type CrlInfo, type CrlInput } from "./checks/crl/index.js";
import { payloadProblems } from "./checks/payload/index.js";
import { failed, findingOf, indeterminate, unreadable, untrustedRoot, type CheckProblem } from "./checks/problem.js";
import { signatureProblems } from "./checks/signatures/index.js";
import { CertStatusTracker, lifecycleProblems, validityProblems } from "./checks/verdict/index.js";
import type { EntryFields } from "./parse/entry.js";
import { parseCertificateLine, parseCrlLine, parseHeader, type ExportHeader } from "./parse/export.js";
import type { Json } from "./parse/fields.js";
import { InThreadPool, type SignaturePool } from "./pool.js";
import { ReportBuilder, type Report } from "./report.js";
import { conflictingSerials } from "./single.js";
import { resolveTrustAnchor, type TrustAnchor } from "./trust/anchor.js";
import { LineVerifier, MAX_LINE_LENGTH, parseLine, type LineResult } from "./worker-core.js";
import { startsWithBom, strictUtf8Decoder } from "./parse/strict-json.js";
import { parseCertificatePem, type CertInfo } from "./x509/certificate.js";

/** Options for {@link verifyExport}. */
export interface VerifyExportOptions {
  /** The pinned CA. The export's own CA is never trusted by itself. */
  trust: TrustAnchor;
  /** Where per-entry work runs; default: in this thread. */
  pool?: SignaturePool;
  /** Called after each batch with running totals. */
  onProgress?(p: { lines: number; entries: number }): void;
  /**
   * CRLs besides the export's own (PEM or base64 DER, optionally labelled with their source, e.g.
   * `--crl` files or one fetched online): the newest valid one decides. See checks/crl.
   */
  crls?: CrlArg[];
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
  problems: CheckProblem[];
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
  crlLines: CrlInput[] = [];
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

  problem(step: StepName, p: CheckProblem, where: { line?: number; seq?: number } = {}): void {
    if (this.stepFailures.get(step) !== "failed") this.stepFailures.set(step, p.level);
    this.rb.error(p.error, p.level, where);
  }

  malformed(e: unknown, line: number): void {
    const err = e instanceof VerificationError ? e : malformed(`line ${line}: ${String(e)}`);
    if (!err.message.startsWith("line ")) err.message = `line ${line}: ${err.message}`;
    this.problem(STEP.parse, unreadable(err), { line });
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
        : { ...cert, role: "unknown", pathError: new VerificationError("ERR_CERT_PATH", `certificate ${cert.serial}: no trusted CA to check it against`) };
      if (claims.serial !== cert.serial) {
        checked.pathError ??= new VerificationError("ERR_CERT_PATH", `certificate line says serial ${claims.serial}, the certificate has ${cert.serial}`, { field: "serial" });
      }
      if (claims.agent && checked.role === "agent" && claims.agent !== checked.agentId) {
        checked.pathError ??= new VerificationError("ERR_CERT_PATH", `certificate line says agent ${claims.agent}, the certificate is for ${checked.agentId}`, { field: "agent" });
      }
      const conflict = conflicts.get(cert.serial);
      if (conflict) checked.pathError = conflict;
      const prev = this.certs.get(cert.serial);
      if (checked.pathError) this.problem(STEP.certs, failed(checked.pathError), { line });
      if (!prev || checked.pathError) this.certs.set(cert.serial, checked);
    }
    if (this.ca) {
      const { crl, problems } = await loadCrls([...this.crlLines, ...crlInputs(this.opts.crls, "crls", "a CRL given by the caller")], this.ca, this.now);
      for (const p of problems) this.problem(STEP.crl, p);
      if (crl) this.crl = crl;
      if (crl?.stale) this.problem(STEP.crl, indeterminate(staleCrlError(crl)));
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
      ...(this.crl ? { crl: crlSubject(this.crl) } : {}),
    };
  }

  /** Closes the current entry: payload (if any) has had its chance, so its verdict is final. */
  finalise(): void {
    const c = this.current;
    if (!c) return;
    this.current = undefined;
    if (c.pending && c.problems.length === 0) return; // decided at the end (NO_POE or proven)
    const first = c.problems.find((p) => p.level === "failed") ?? c.problems[0];
    this.rb.finding(first ? findingOf(first, { seq: c.entry.seq, line: c.line }) : { seq: c.entry.seq, line: c.line, verdict: "PASSED", code: "OK", message: "entry verified" });
  }

  async entry(r: Extract<LineResult, { kind: "entry" }>, line: number): Promise<void> {
    this.finalise();
    this.entries++;
    const e = r.entry;
    const problems: CheckProblem[] = [];
    const add = (step: StepName, ps: CheckProblem[]) => {
      for (const p of ps) {
        problems.push(p);
        this.problem(step, p, { line, seq: e.seq });
      }
    };
    if (this.checkpoint) add(STEP.checkpoint, [failed(new VerificationError("ERR_CHECKPOINT", `entry ${e.seq} after the checkpoint line`, { seq: e.seq }))]);
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
      this.malformed(malformed(`payload for seq ${r.seq} does not follow its entry`, { field: "payload.seq" }), line);
      return;
    }
    const ps = payloadProblems(r.seq, c.entry.payloadHash, r.hash);
    for (const p of ps) {
      c.problems.push(p);
      this.problem(STEP.payloads, p, { line, seq: r.seq });
    }
  }

  async result(r: LineResult, line: number): Promise<void> {
    if (r.kind === "blank") return;
    if (r.kind === "malformed") {
      this.finalise();
      this.linker?.reset();
      this.malformed(malformed(r.message, r.field ? { field: r.field } : {}), line);
    } else if (r.kind === "entry") await this.entry(r, line);
    else if (r.kind === "payload") this.payload(r, line);
    else if (r.value.kind === "checkpoint") {
      this.finalise();
      if (this.checkpoint) this.malformed(malformed("a second checkpoint line", { field: "kind" }), line);
      else this.checkpoint = { raw: r.value.checkpoint, line };
    } else if (["header", "certificate", "crl"].includes(r.value.kind as string)) {
      this.malformed(malformed(`${String(r.value.kind)} line after the first entry`, { field: "kind" }), line);
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
      this.problem(STEP.checkpoint, failed(new VerificationError("ERR_TRUNCATED", "the export has no checkpoint: its tail cannot be proven complete", { seq: present })));
    } else {
      const { checkpoint, problems } = await authenticateCheckpoint(this.checkpoint.raw, h.issuer, this.certs, this.localVerifier);
      for (const p of problems) this.problem(p.reason === "FORMAT_FAILURE" ? STEP.parse : STEP.checkpoint, p, { line: this.checkpoint.line });
      if (checkpoint) {
        const ps = [
          ...checkpointCoverage(checkpoint, last, h.from),
          ...checkpointTimeProblems(checkpoint, last),
          ...revokedSignerProblems(checkpoint, this.crl),
        ];
        for (const p of ps) this.problem(STEP.checkpoint, p, { line: this.checkpoint.line });
        // Proof of existence only from a checkpoint that is authentic, covers exactly these entries and is trusted.
        if (ps.length === 0) proofTime = checkpoint.time;
        rb.report.subject!.checkpoint = { size: checkpoint.size, head: checkpoint.head, time: new Date(checkpoint.time).toISOString() };
      }
    }
    if (present < h.to + 1) {
      this.problem(STEP.checkpoint, failed(new VerificationError("ERR_TRUNCATED", `header range ends at seq ${h.to} but the entries end at ${present - 1}`, { seq: present })));
    } else if (present > h.to + 1) {
      this.problem(STEP.parse, failed(malformed(`entries beyond header range.to ${h.to}`, { field: "header.range.to" })));
    }
    // Entries whose status only the end of the export decides (CRL revocation, certificate announcement).
    for (const p of this.tracker!.resolve(proofTime)) {
      if (p.problem) {
        this.problem(STEP.status, p.problem, { ...(p.line !== undefined ? { line: p.line } : {}), seq: p.seq });
        rb.finding(findingOf(p.problem, { seq: p.seq, ...(p.line !== undefined ? { line: p.line } : {}) }));
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
      [STEP.crl]: this.crl ? crlDetail(this.crl) : "no valid CRL: revocation status unknown",
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

/** One dispatched unit of work: results for consecutive lines, numbered explicitly or from a running count. */
interface InFlight {
  /** Line numbers per result (line path: blank lines were skipped); absent for blocks (one result per line). */
  lineNos?: number[];
  results: Promise<LineResult[]>;
}

/**
 * Feeds lines (and, once the preamble is done, whole blocks of lines) to the pool in order, with
 * a bounded number of batches in flight, and hands results back to the ExportVerifier in order.
 */
class Feeder {
  v: ExportVerifier;
  opts: VerifyExportOptions;
  batchSize: number;
  batchChars: number;
  maxInflight: number;
  inflight: InFlight[] = [];
  batch: string[] = [];
  batchLines: number[] = [];
  chars = 0;
  /** Lines read so far (line path). */
  lineNo = 0;
  /** Number of the last line whose result was handled. */
  drained = 0;
  /** Blocks are being fed: lines are counted as their results come back (drained). */
  blockMode = false;
  /** Set when the verification cannot go on (no header). */
  stopped = false;
  /** The first line has been seen (a BOM is accepted only at its start). */
  bomChecked = false;

  constructor(v: ExportVerifier, opts: VerifyExportOptions) {
    this.v = v;
    this.opts = opts;
    this.batchSize = opts.batchSize ?? 512;
    this.batchChars = opts.batchChars ?? 1 << 20;
    this.maxInflight = Math.max(2, v.pool.concurrency ?? 2);
  }

  async drainOne(): Promise<void> {
    const item = this.inflight.shift()!;
    const results = await item.results;
    for (let i = 0; i < results.length; i++) {
      this.drained = item.lineNos ? item.lineNos[i]! : this.drained + 1;
      await this.v.result(results[i]!, this.drained);
    }
    this.progress();
  }

  progress(): void {
    this.opts.onProgress?.({ lines: this.blockMode ? this.drained : this.lineNo, entries: this.v.entries });
  }

  async push(item: InFlight): Promise<void> {
    this.inflight.push(item);
    while (this.inflight.length >= this.maxInflight) await this.drainOne();
  }

  async dispatch(): Promise<void> {
    if (this.batch.length === 0) return;
    const lines = this.batch;
    const lineNos = this.batchLines;
    this.batch = [];
    this.batchLines = [];
    this.chars = 0;
    await this.push({ lineNos, results: this.v.pool.verifyLines(lines) });
  }

  async flush(): Promise<void> {
    await this.dispatch();
    while (this.inflight.length) await this.drainOne();
  }

  /** A line longer than MAX_LINE_LENGTH, never held in memory whole. */
  async overlong(): Promise<void> {
    await this.flush();
    const n = (this.blockMode ? this.drained : this.lineNo) + 1;
    this.lineNo = this.drained = n;
    this.v.finalise();
    this.v.linker?.reset();
    this.v.malformed(malformed(`line longer than ${MAX_LINE_LENGTH} characters`, { field: "(line)" }), n);
  }

  /** One line (attacker-controlled). */
  async line(raw: unknown): Promise<void> {
    const v = this.v;
    if (typeof raw === "string" && raw.length > MAX_LINE_LENGTH) return this.overlong();
    this.lineNo++;
    if (raw === INVALID_UTF8) {
      v.finalise();
      v.linker?.reset();
      v.malformed(malformed("line is not valid UTF-8", { field: "(line)" }), this.lineNo);
      if (!v.header) this.stopped = true;
      return;
    }
    if (this.lineNo === 1 && typeof raw === "string" && raw.charCodeAt(0) === 0xfeff && !this.bomChecked) raw = raw.slice(1); // BOM at the start of the input only
    this.bomChecked = true;
    if (typeof raw !== "string") {
      v.malformed(malformed("line is not a string", { field: "(line)" }), this.lineNo);
      return;
    }
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    if (!v.body) {
      let value: Json;
      try {
        value = parseLine(line);
      } catch (e) {
        v.malformed(e, this.lineNo);
        if (!v.header) this.stopped = true; // no header: nothing can be judged
        return;
      }
      if (!v.header || ["certificate", "crl", "header"].includes(value.kind as string)) {
        try {
          await v.preambleLine(value, this.lineNo);
        } catch (e) {
          v.malformed(e, this.lineNo);
          if (!v.header) this.stopped = true;
        }
        return;
      }
      await v.finishPreamble();
    }
    this.batch.push(line);
    this.batchLines.push(this.lineNo);
    this.chars += line.length;
    if (this.batch.length >= this.batchSize || this.chars >= this.batchChars) await this.dispatch();
  }

  /**
   * Whole body lines as UTF-8 bytes, ending with "\n" (only once the preamble is done). The pool
   * splits and numbers them when it can (the pool may take ownership of `bytes`); otherwise they are
   * decoded and fed line by line here.
   */
  async block(bytes: Uint8Array, decoder: TextDecoder): Promise<void> {
    const pool = this.v.pool;
    if (!pool.verifyBlock) {
      for (let start = 0; start < bytes.length; ) {
        const nl = bytes.indexOf(LF, start);
        await this.line(decodeLine(decoder, bytes.subarray(start, nl)));
        start = nl + 1;
      }
      return;
    }
    if (!this.blockMode) {
      // From here on lines are numbered as their results come back: settle the line path first.
      await this.flush();
      this.drained = this.lineNo;
      this.blockMode = true;
    }
    await this.push({ results: pool.verifyBlock(bytes) });
  }

  async finish(): Promise<Report> {
    const v = this.v;
    if (v.header && !v.body) await v.finishPreamble();
    await this.flush();
    this.progress();
    return v.finish();
  }
}

/**
 * Verifies an exported log (`kakunin-log/1` NDJSON) given as lines, streaming: memory stays flat
 * whatever the export's size. Every line is attacker-controlled; problems become coded errors and
 * per-entry findings, never exceptions (except a broken `lines` iterable itself).
 */
export async function verifyExport(lines: AsyncIterable<string> | Iterable<string>, opts: VerifyExportOptions): Promise<Report> {
  const f = new Feeder(new ExportVerifier(opts), opts);
  for await (const raw of lines as AsyncIterable<string>) {
    await f.line(raw);
    if (f.stopped) return f.v.finish();
  }
  return f.finish();
}

/** A fresh Uint8Array with bytes [from, to) of `data` (Node's Buffer#slice would share memory). */
function copyOf(data: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  out.set(data.subarray(from, to));
  return out;
}

/** "\n" */
const LF = 10;
/** A line this many UTF-8 bytes long has more than MAX_LINE_LENGTH UTF-16 units (≤ 3 bytes each). */
const OVERLONG_BYTES = 3 * MAX_LINE_LENGTH;

/**
 * {@link verifyExport} over the export's raw bytes (e.g. a file or `Blob.stream()`), in chunks of
 * any size. Lines are strict UTF-8: a line with an invalid sequence is ERR_MALFORMED (never
 * U+FFFD); a byte order mark is skipped at byte 0 only (elsewhere it is malformed). Once past
 * the preamble (header, certificates, CRL), whole blocks of lines go to the pool undecoded when it
 * offers {@link SignaturePool.verifyBlock}, so this thread does almost nothing per entry. Memory
 * stays bounded: a line without an end past 3 MiB is reported as too long and skipped, not kept.
 */
export async function verifyExportBytes(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: VerifyExportOptions): Promise<Report> {
  const f = new Feeder(new ExportVerifier(opts), opts);
  f.bomChecked = true; // the BOM is judged on bytes here
  const decoder = strictUtf8Decoder();
  let first = true; // a BOM is accepted at byte 0 of the export only
  const partial = new ByteBuffer(); // the start of a line that has not ended yet
  let skipping = false; // inside an over-long line, up to its "\n"

  /**
   * Whole lines (`lines` ends with "\n" and is ours: a fresh buffer, whole): decoded here one by
   * one in the preamble, then handed over as one block.
   */
  const feed = async (lines: Uint8Array): Promise<void> => {
    let start = 0;
    while (!f.v.body && !f.stopped && start < lines.length) {
      const nl = lines.indexOf(LF, start);
      await f.line(decodeLine(decoder, lines.subarray(start, nl)));
      start = nl + 1;
    }
    if (f.stopped || start === lines.length) return;
    await f.block(start === 0 ? lines : copyOf(lines, start, lines.length), decoder);
  };

  for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
    let data = chunk;
    if (first && data.length > 0) {
      first = false;
      if (startsWithBom(data)) data = data.subarray(3);
    }
    if (skipping) {
      const nl = data.indexOf(LF);
      if (nl < 0) continue;
      skipping = false;
      data = data.subarray(nl + 1);
    }
    const last = data.lastIndexOf(LF);
    if (last >= 0) {
      // One block per chunk: the line begun in earlier chunks, then every line ending in this one.
      const block = new Uint8Array(partial.length + last + 1);
      block.set(partial.view());
      block.set(data.subarray(0, last + 1), partial.length);
      partial.clear();
      await feed(block);
      if (f.stopped) return f.v.finish();
    }
    partial.append(data.subarray(last + 1));
    if (partial.length > OVERLONG_BYTES) {
      partial.clear();
      await f.overlong();
      skipping = true;
    }
  }
  if (partial.length) {
    const block = new Uint8Array(partial.length + 1);
    block.set(partial.view());
    block[partial.length] = LF;
    await feed(block);
    if (f.stopped) return f.v.finish();
  }
  return f.finish();
}

/** A line's text, or a marker string that is malformed JSON when its bytes are not UTF-8 (never U+FFFD). */
function decodeLine(decoder: TextDecoder, bytes: Uint8Array): string | InvalidUtf8 {
  try {
    return decoder.decode(bytes);
  } catch {
    return INVALID_UTF8;
  }
}
/** Stands for a line that is not valid UTF-8. */
const INVALID_UTF8 = Symbol("invalid UTF-8");
type InvalidUtf8 = typeof INVALID_UTF8;

/** A growable byte buffer (capacity doubles), so a line arriving in many small chunks costs linear time. */
class ByteBuffer {
  #buf = new Uint8Array(0);
  length = 0;
  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const need = this.length + bytes.length;
    if (need > this.#buf.length) {
      const next = new Uint8Array(Math.max(need, this.#buf.length * 2, 4096));
      next.set(this.#buf.subarray(0, this.length));
      this.#buf = next;
    }
    this.#buf.set(bytes, this.length);
    this.length = need;
  }
  /** The bytes so far (a view, valid until the next change). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }
  clear(): void {
    this.length = 0;
    if (this.#buf.length > 1 << 16) this.#buf = new Uint8Array(0); // do not keep a huge line's buffer
  }
}
