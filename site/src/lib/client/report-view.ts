/** Renders a verifier Report: the big verdict, plain reasons, steps, and the technical JSON. */
import type { Report } from "@kakunin/verifier";
import { h, downloadJson } from "./ui";
import { plainReason, STEP_STATUS, VERDICT_CLASS, VERDICT_WORD } from "./plain";

export function verdictBox(report: Report, sub: string): HTMLElement {
  return h(
    "div",
    { class: `verdict ${VERDICT_CLASS[report.verdict]}`, id: "verdict", "data-verdict": report.verdict },
    h("p", { class: "verdict-word", id: "result-title" }, VERDICT_WORD[report.verdict]),
    h("p", { class: "verdict-sub" }, sub),
  );
}

/** One plain-language line per distinct problem, technical message and code beside it. */
export function reasonsList(report: Report, limit = 20): HTMLElement | null {
  const items: { plain: string; tech: string; code: string; where: string }[] = [];
  const seen = new Set<string>();
  const add = (code: string, reason: string | undefined, message: string, seq?: number, line?: number) => {
    const where = seq !== undefined ? `entry ${seq}` : line !== undefined ? `line ${line}` : "";
    const key = `${code}|${message}|${where}`;
    if (seen.has(key)) return;
    seen.add(key);
    items.push({
      plain: plainReason(code, reason) ?? message,
      tech: message,
      code: reason && reason !== code ? `${code} · ${reason}` : code,
      where,
    });
  };
  for (const e of report.errors) add(e.code, undefined, e.message, e.seq, e.line);
  for (const f of report.findings) if (f.verdict !== "PASSED") add(f.code, f.reason, f.message, f.seq, f.line);
  if (items.length === 0) return null;
  const ul = h("ul", { class: "reasons", id: "reasons" });
  for (const it of items.slice(0, limit)) {
    ul.append(
      h(
        "li",
        {},
        h("strong", {}, it.plain),
        it.where ? ` (${it.where})` : "",
        h("br"),
        h("span", { class: "code" }, `${it.code}: ${it.tech}`),
      ),
    );
  }
  if (items.length > limit) ul.append(h("li", {}, `… and ${items.length - limit} more (see the technical report).`));
  return ul;
}

export function stepsList(report: Report): HTMLElement {
  const ol = h("ol", { class: "steps" });
  for (const s of report.steps) {
    ol.append(
      h("li", {}, h("strong", {}, s.name), `: ${STEP_STATUS[s.status] ?? s.status}`, s.detail ? ` — ${s.detail}` : ""),
    );
  }
  return ol;
}

export function technicalSection(report: Report, fileName: string): HTMLElement {
  const btn = h(
    "button",
    { type: "button", class: "secondary", id: "download-report" },
    "Download the technical report (JSON)",
  );
  btn.addEventListener("click", () => downloadJson(fileName, report));
  const print = h("button", { type: "button", class: "secondary", id: "print" }, "Print for the case file");
  print.addEventListener("click", () => window.print());
  return h(
    "div",
    {},
    h("h2", {}, "Checks performed"),
    stepsList(report),
    h("div", { class: "actions" }, btn, print),
    h(
      "details",
      { class: "no-print" },
      h("summary", {}, "Technical report (JSON)"),
      h("pre", { id: "report-json" }, JSON.stringify(report, null, 2)),
    ),
  );
}
