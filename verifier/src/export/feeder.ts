/**
 * The feeder: hands an export's lines to the pool in order — one line at a time while the
 * preamble (header, certificates, CRL) is read on this thread, then in batches, or in whole
 * undecoded blocks when the pool offers `verifyBlock` — with a bounded number of batches in
 * flight, and passes the results back to the export verifier in order.
 */
import { malformed } from "../errors.js";
import type { Json } from "../parse/fields.js";
import type { LineResults } from "../pool.js";
import type { Report } from "../report.js";
import { MAX_LINE_LENGTH, parseLine, type LineResult } from "../worker-core.js";
import type { ExportVerifier, VerifyExportOptions } from "./export-verifier.js";
import { decodeLine, INVALID_UTF8, LF } from "./line-decoding.js";

/** One dispatched unit of work: results for consecutive lines, numbered explicitly or from a running count. */
interface InFlight {
  /** Line numbers per result (line path: blank lines were skipped); absent for blocks (one result per line). */
  lineNos?: number[];
  results: Promise<LineResults>;
}

/**
 * Feeds lines (and, once the preamble is done, whole blocks of lines) to the pool in order, with
 * a bounded number of batches in flight, and hands results back to the ExportVerifier in order.
 */
export class Feeder {
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
      // Most results are judged synchronously: no promise per line.
      const p = this.v.result(results.at(i)!, this.drained);
      if (p) await p;
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
    this.v.chainInterrupted(malformed(`line longer than ${MAX_LINE_LENGTH} characters`, { field: "(line)" }), n);
  }

  /** One line (attacker-controlled). */
  async line(raw: unknown): Promise<void> {
    const v = this.v;
    if (typeof raw === "string" && raw.length > MAX_LINE_LENGTH) return this.overlong();
    this.lineNo++;
    if (raw === INVALID_UTF8) {
      v.chainInterrupted(malformed("line is not valid UTF-8", { field: "(line)" }), this.lineNo);
      if (!v.header) this.stopped = true;
      return;
    }
    if (this.lineNo === 1 && typeof raw === "string" && raw.charCodeAt(0) === 0xfeff && !this.bomChecked)
      raw = raw.slice(1); // BOM at the start of the input only
    this.bomChecked = true;
    if (typeof raw !== "string") {
      v.lineUnreadable(malformed("line is not a string", { field: "(line)" }), this.lineNo);
      return;
    }
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    if (!v.body) {
      let value: Json;
      try {
        value = parseLine(line);
      } catch (e) {
        v.lineUnreadable(e, this.lineNo);
        if (!v.header) this.stopped = true; // no header: nothing can be judged
        return;
      }
      if (!v.header || ["certificate", "crl", "header"].includes(value.kind as string)) {
        try {
          await v.preambleLine(value, this.lineNo);
        } catch (e) {
          v.lineUnreadable(e, this.lineNo);
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
      for (let start = 0; start < bytes.length;) {
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
