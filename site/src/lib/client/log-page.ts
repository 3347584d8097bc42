/** Verify an exported log: streams the file through verifyExport with a Web Worker pool. */
import { verifyExportBytes, MAX_LINE_LENGTH, type Report } from "@kakunin/verifier";
import { crls, ready, trustAnchor } from "./data";
import { plainReason, VERDICT_WORD } from "./plain";
import { reasonsList, technicalSection, verdictBox } from "./report-view";
import { $, clearErrors, fieldError, focusResult, h, onFileDrop } from "./ui";
import { WebWorkerPool } from "./worker-pool";

// One revocation rule everywhere (verifier checks/crl): the export's CRL and the portal's directory
// CRL are both offered, and the newest valid one decides — as `kakunin-verify log --crl` does.

/** Splits a byte stream into lines, reporting bytes read. Over-long lines are cut (the verifier flags them). */
/** The stream's chunks, counting bytes read, stopping when `signal` aborts. */
export async function* chunksOf(
  stream: ReadableStream<Uint8Array>,
  onBytes: (n: number) => void,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let read = 0;
  try {
    for (;;) {
      if (signal.aborted) throw new DOMException("stopped", "AbortError");
      const { value, done } = await reader.read();
      if (done) return;
      read += value.byteLength;
      onBytes(read);
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export async function* linesOf(
  stream: ReadableStream<Uint8Array>,
  onBytes: (n: number) => void,
  signal: AbortSignal,
): AsyncGenerator<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder("utf-8");
  let buf = "";
  let skipping = false;
  let read = 0;
  try {
    for (;;) {
      if (signal.aborted) throw new DOMException("stopped", "AbortError");
      const { value, done } = await reader.read();
      if (done) break;
      read += value.byteLength;
      onBytes(read);
      buf += decoder.decode(value, { stream: true });
      let start = 0;
      for (;;) {
        const nl = buf.indexOf("\n", start);
        if (nl < 0) break;
        if (skipping) skipping = false;
        else yield buf.slice(start, nl);
        start = nl + 1;
      }
      buf = buf.slice(start);
      if (buf.length > MAX_LINE_LENGTH && !skipping) {
        yield buf.slice(0, MAX_LINE_LENGTH + 1);
        buf = "";
        skipping = true;
      } else if (skipping) buf = "";
    }
    buf += decoder.decode();
    if (buf && !skipping) yield buf;
  } finally {
    reader.releaseLock();
  }
}

function summary(report: Report, ms: number): string {
  const c = report.counts;
  const range = report.subject?.range;
  const base = `${c.entries.toLocaleString("en")} entries checked in ${(ms / 1000).toFixed(1)} s: ${c.passed.toLocaleString("en")} valid, ${c.failed.toLocaleString("en")} invalid, ${c.indeterminate.toLocaleString("en")} undetermined.`;
  const who = report.subject?.issuer ? ` Issuer ${report.subject.issuer}` : "";
  const r = range ? `, entries ${range.from}–${range.to}` : "";
  if (report.verdict === "PASSED") return `The log is complete and untampered.${who}${r}. ${base}`;
  const first = report.findings.find((f) => f.verdict !== "PASSED");
  const err = report.errors[0];
  const plain = plainReason(first?.code ?? err?.code, first?.reason) ?? first?.message ?? err?.message ?? "";
  return `${report.verdict === "FAILED" ? "The log has problems." : "Some entries cannot be decided."} ${plain}${who ? ` ${who.trim()}${r}.` : ""} ${base}`;
}

const ROWS = 500;

function failingTable(report: Report): HTMLElement {
  type Row = { seq?: number; line?: number; verdict: string; code: string; reason?: string; message: string };
  const rows: Row[] = [];
  for (const f of report.findings)
    if (f.verdict !== "PASSED")
      rows.push({ seq: f.seq, line: f.line, verdict: f.verdict, code: f.code, reason: f.reason, message: f.message });
  // Problems not tied to one entry's verdict (checkpoint, truncation, header…).
  const seen = new Set(rows.map((r) => `${r.seq}|${r.code}`));
  for (const e of report.errors)
    if (!seen.has(`${e.seq}|${e.code}`))
      rows.push({ seq: e.seq, line: e.line, verdict: "—", code: e.code, message: e.message });
  rows.sort(
    (a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER) || (a.line ?? 0) - (b.line ?? 0),
  );
  if (rows.length === 0) return h("p", { id: "failing-none" }, "No failing entries.");
  const tbody = h("tbody");
  for (const r of rows.slice(0, ROWS)) {
    tbody.append(
      h(
        "tr",
        { "data-seq": r.seq === undefined ? undefined : String(r.seq) },
        h("td", { class: "seq" }, r.seq === undefined ? "—" : String(r.seq)),
        h("td", {}, r.line === undefined ? "—" : String(r.line)),
        h("td", {}, r.verdict === "—" ? "—" : (VERDICT_WORD[r.verdict as keyof typeof VERDICT_WORD] ?? r.verdict)),
        h(
          "td",
          {},
          plainReason(r.code, r.reason) ?? r.message,
          h("br"),
          h("span", { class: "code hint" }, `${r.code}${r.reason ? ` · ${r.reason}` : ""}: ${r.message}`),
        ),
      ),
    );
  }
  const more = rows.length - ROWS + (report.findingsOmitted ?? 0) + (report.errorsOmitted ?? 0);
  return h(
    "div",
    {},
    h(
      "table",
      { id: "failing" },
      h("caption", {}, `Failing entries and problems (${rows.length.toLocaleString("en")}${more > 0 ? "+" : ""})`),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "Seq"),
          h("th", { scope: "col" }, "Line"),
          h("th", { scope: "col" }, "Verdict"),
          h("th", { scope: "col" }, "Reason"),
        ),
      ),
      tbody,
    ),
    more > 0 ? h("p", { class: "hint" }, `${more.toLocaleString("en")} more are listed in the technical report.`) : "",
  );
}

export function initLogPage(): void {
  const form = $<HTMLFormElement>("log-form");
  const fileInput = $<HTMLInputElement>("log-file");
  const area = $<HTMLTextAreaElement>("log-text");
  const drop = $("drop");
  const fileStatus = $("log-file-status");
  const progressBox = $("progress-box");
  const progress = $<HTMLProgressElement>("progress");
  const progressText = $("progress-text");
  const out = $("result");
  const button = $<HTMLButtonElement>("verify");
  const cancel = $<HTMLButtonElement>("cancel");
  let dropped: File | null = null;
  let abort: AbortController | null = null;
  // Workers start when the page loads (their scripts are fetched now, not during verification)
  // and are reused for every run; they end with the page.
  let pool: WebWorkerPool | null = null;
  const getPool = (): WebWorkerPool => (pool ??= new WebWorkerPool());
  if (typeof Worker !== "undefined") getPool();
  window.addEventListener("pagehide", () => {
    pool?.close();
    pool = null;
  });
  window.addEventListener("pageshow", (e) => {
    if (e.persisted && typeof Worker !== "undefined") getPool();
  });

  const setFile = (f: File | null) => {
    dropped = f;
    fileStatus.textContent = f ? `Selected ${f.name} (${f.size.toLocaleString("en")} bytes).` : "";
    if (f) area.value = "";
  };
  fileInput.addEventListener("change", () => setFile(fileInput.files?.[0] ?? null));
  area.addEventListener("input", () => {
    if (area.value) {
      dropped = null;
      fileInput.value = "";
      fileStatus.textContent = "";
    }
  });
  for (const el of [drop, area]) {
    onFileDrop(el, area, (f) => {
      fileInput.value = "";
      setFile(f);
    });
  }
  form.addEventListener("reset", () => {
    abort?.abort();
    setFile(null);
    clearErrors("log-file");
    out.hidden = true;
    out.replaceChildren();
    progressBox.hidden = true;
  });
  cancel.addEventListener("click", () => abort?.abort());

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      clearErrors("log-file");
      out.hidden = true;
      const blob: Blob | null = dropped ?? (area.value.trim() ? new Blob([area.value]) : null);
      if (!blob || blob.size === 0) {
        fieldError(
          "log-file",
          dropped ? "This file is empty." : "Choose an exported log file, drop it here, or paste its lines.",
        );
        fileInput.focus();
        return;
      }
      // A quick look at the first line, to reject obvious garbage with a clear message.
      const head = await blob.slice(0, Math.min(blob.size, 64 * 1024)).text();
      const firstLine = head.split("\n", 1)[0]!.trim();
      let first: unknown;
      try {
        first = JSON.parse(firstLine);
      } catch {
        first = undefined;
      }
      const f = first as Record<string, unknown> | undefined;
      if (!f || typeof f !== "object" || f.kind !== "header") {
        const what =
          f && typeof f === "object" && (f as Record<string, unknown>).format === "kakunin-receipt/1"
            ? " It looks like a receipt: use “Verify a receipt”."
            : "";
        fieldError(
          "log-file",
          `This is not a Kakunin log export: its first line must be a JSON header ({"kind":"header","format":"kakunin-log/1",…}).${what}`,
        );
        fileInput.focus();
        return;
      }
      const trust = trustAnchor();
      if (!trust) {
        fieldError(
          "log-file",
          "This portal pins no certificate authority (it was built without a directory), so it cannot verify anything.",
        );
        return;
      }
      await ready();
      abort = new AbortController();
      const signal = abort.signal;
      let workers: WebWorkerPool;
      try {
        workers = getPool();
      } catch (err) {
        fieldError(
          "log-file",
          `This browser cannot start background workers: ${err instanceof Error ? err.message : String(err)}`,
        );
        return;
      }
      button.disabled = true;
      cancel.hidden = false;
      progressBox.hidden = false;
      progress.value = 0;
      progressText.textContent = `Verifying with ${workers.size} background worker${workers.size === 1 ? "" : "s"}…`;
      const total = blob.size;
      let bytes = 0;
      let entries = 0;
      let lastPaint = 0;
      const t0 = performance.now();
      const paint = (force = false) => {
        const now = performance.now();
        if (!force && now - lastPaint < 100) return;
        lastPaint = now;
        progress.value = total ? bytes / total : 0;
        const rate = entries / Math.max(0.001, (now - t0) / 1000);
        progressText.textContent = `${Math.round((bytes / total) * 100)}% read · ${entries.toLocaleString("en")} entries verified · ${Math.round(rate).toLocaleString("en")} entries/s`;
      };
      try {
        // Raw bytes, as the CLI reads them: strict UTF-8 and the BOM rule are the library's, not ours.
        const report = await verifyExportBytes(
          chunksOf(
            blob.stream() as ReadableStream<Uint8Array>,
            (n) => {
              bytes = n;
              paint();
            },
            signal,
          ),
          {
            trust,
            crls: crls(),
            pool: workers,
            onProgress: (p) => {
              entries = p.entries;
              paint();
            },
          },
        );
        const ms = performance.now() - t0;
        entries = report.counts.entries;
        bytes = total;
        paint(true);
        progressText.textContent = `Done: ${report.counts.entries.toLocaleString("en")} entries in ${(ms / 1000).toFixed(2)} s.`;
        progressText.dataset.ms = String(Math.round(ms));
        progressText.dataset.entries = String(report.counts.entries);
        const name = `kakunin-log-report-${report.subject?.issuer ?? "unknown"}.json`;
        const reasons = reasonsList(report, 8);
        out.replaceChildren(
          h("h2", { class: "visually-hidden" }, "Result"),
          verdictBox(report, summary(report, ms)),
          reasons ? h("div", {}, h("h2", {}, "Reasons"), reasons) : "",
          h("h2", {}, "Failing entries"),
          failingTable(report),
          technicalSection(report, name),
        );
        out.hidden = false;
        focusResult(out);
      } catch (err) {
        if (signal.aborted) {
          progressText.textContent = "Stopped. Nothing was decided.";
        } else {
          fieldError("log-file", `The log could not be verified: ${err instanceof Error ? err.message : String(err)}`);
          progressBox.hidden = true;
        }
      } finally {
        if (workers.broken) {
          workers.close();
          pool = null;
        }
        button.disabled = false;
        cancel.hidden = true;
        abort = null;
      }
    })();
  });
}
