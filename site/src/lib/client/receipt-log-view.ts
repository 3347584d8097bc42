/** The log v2 part of a receipt's result: checkpoint, inclusion, log signature, witnesses, proof of existence. */
import type { Report } from "@kakunin/verifier";
import { pinnedLogTrust } from "./data";
import { fmtTime, h } from "./ui";

/** A definition-list row. */
export function dd(term: string, ...value: (Node | string)[]): [HTMLElement, HTMLElement] {
  return [h("dt", {}, term), h("dd", {}, ...value)];
}

/** kakunin-receipt/2: the checkpoint, the inclusion, which witnesses cosigned, the proof of existence. */
export function logRows(report: Report): [HTMLElement, HTMLElement][] {
  const rows: [HTMLElement, HTMLElement][] = [];
  const l = report.subject?.log;
  const step = (name: string) => report.steps.find((s) => s.name === name);
  if (l) {
    const inc = step("log inclusion");
    rows.push(
      dd(
        "Log checkpoint",
        h("code", { id: "log-origin" }, l.origin),
        ` — ${l.size} entries, root `,
        h("code", {}, l.root),
      ),
      dd(
        "Inclusion in the log",
        h(
          "span",
          { id: "log-inclusion", "data-status": inc?.status ?? "" },
          inc?.status === "passed" ? `entry ${l.index} is in this checkpoint's tree` : (inc?.detail ?? "not checked"),
        ),
      ),
    );
    const sig = step("checkpoint signature");
    const trust = pinnedLogTrust();
    rows.push(
      dd(
        "Checkpoint signed by",
        h(
          "span",
          { id: "log-signature", "data-status": sig?.status ?? "" },
          l.logSignedBy?.length
            ? `the pinned log key ${l.logSignedBy.join(", ")}`
            : trust.logKeys || trust.policy
              ? (sig?.detail ?? "no pinned log key")
              : "unverified: this portal pins no log key",
        ),
      ),
    );
    if (l.witnesses) {
      const ul = h("ul", { id: "witnesses" });
      for (const w of l.witnesses)
        ul.append(
          h(
            "li",
            { "data-witness": w.name, "data-status": w.status },
            `${w.name}: ${w.status}${w.time ? ` at ${fmtTime(w.time)}` : ""}`,
          ),
        );
      rows.push(dd(`Witnesses (quorum ${l.quorumMet ? "met" : "not met"})`, ul));
    } else if (l.signatures.length > 1)
      rows.push(
        dd(
          "Witnesses",
          `${l.signatures.length - 1} cosignature line(s), not checked: this portal pins no witness policy`,
        ),
      );
  }
  const poe = report.subject?.poe;
  if (poe) {
    const d = poe.decidedBy;
    rows.push(
      dd(
        "Proof of existence",
        h(
          "span",
          { id: "poe", "data-indication": poe.indication },
          d
            ? `timestamp by ${d.tsa.name} at ${fmtTime(d.time)} over the checkpoint of ${d.checkpoint.size} entries${poe.control ? `, before the ${poe.control.kind} at ${fmtTime(poe.control.time)}` : ""}`
            : poe.message,
        ),
      ),
    );
  }
  return rows;
}
