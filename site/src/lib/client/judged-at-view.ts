/** The "Judged as at …" lines of a receipt result (the clock is judge-time.ts). */
import { VERDICT_WORD, type Verdict } from "./plain";
import { fmtTime, h } from "./ui";

/**
 * The line every receipt result carries: the time it was judged as at. When that time was chosen
 * and the verdict at the present time differs (`differsNow`), a second line says so, so that a
 * time set by a link cannot change the verdict unnoticed.
 */
export function judgedAtNote(at: Date, chosen: boolean, differsNow?: { at: Date; verdict: Verdict }): HTMLElement {
  const iso = at.toISOString();
  const div = h(
    "div",
    { class: chosen ? "judged judged-chosen" : "judged" },
    h(
      "p",
      { id: "judged-at", "data-time": iso, "data-chosen": String(chosen) },
      "Judged as at ",
      h("time", { datetime: iso }, fmtTime(iso)),
      chosen ? " — a time chosen on this page, not the current time." : " (the time of verification).",
    ),
  );
  if (chosen && differsNow)
    div.append(
      h(
        "p",
        { id: "judged-now", "data-verdict": differsNow.verdict },
        `Judged as at now (${fmtTime(differsNow.at.toISOString())}), the same receipt is “${VERDICT_WORD[differsNow.verdict]}”.`,
      ),
    );
  return div;
}
