/** Verify a receipt: paste/drop a receipt (and optionally its payload), verify in the browser, explain. */
import { verifyReceipt, payloadHash, type Report } from "@kakunin/verifier";
import { certificatesBySerial, type DirCertificate } from "../directory";
import { crls, directory, ready, trustAnchor, trustMaterial } from "./data";
import { plainReason } from "./plain";
import { reasonsList, technicalSection, verdictBox } from "./report-view";
import { dd, logRows } from "./receipt-log-view";
import { judgeTimeFromUrl, parseJudgeTime } from "./judge-time";
import { judgedAtNote } from "./judged-at-view";
import { $, clearErrors, fieldError, fmtTime, focusResult, h, TextOrFile } from "./ui";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);

/** Parses the receipt text; returns a message for the field when it is not even a receipt. */
export function parseReceiptText(text: string): { receipt: Json } | { error: string } {
  const t = text.trim();
  if (!t) return { error: "Paste a receipt or choose a receipt file first." };
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch (e) {
    const where = e instanceof SyntaxError ? ` (${e.message.replace(/^JSON\.parse: /, "")})` : "";
    return {
      error: `This is not valid JSON${where}. A receipt is a JSON document that starts with {"format":"kakunin-receipt/1", …}.`,
    };
  }
  if (!isObj(v))
    return { error: "This JSON is not a receipt: a receipt is a JSON object, not a list or a single value." };
  if (v.format !== "kakunin-receipt/1" && v.format !== "kakunin-receipt/2") {
    if (v.kind === "header" || v.kind === "entry")
      return { error: "This looks like a line of an exported log, not a receipt. Use “Verify a log” for exports." };
    return {
      error: `This JSON is not a Kakunin receipt: its "format" should be "kakunin-receipt/1" or "kakunin-receipt/2"${typeof v.format === "string" ? `, not "${v.format}"` : ""}.`,
    };
  }
  if (!isObj(v.entry)) return { error: `This receipt has no "entry" object, so there is nothing to verify.` };
  return { receipt: v };
}

/** Chooses how to hash the payload: JSON (canonical) if it is JSON and that matches, else raw bytes. */
async function payloadOption(
  bytes: Uint8Array,
  text: string,
  fromFile: boolean,
  expected: unknown,
): Promise<Uint8Array | { json: unknown }> {
  let json: { json: unknown } | undefined;
  try {
    json = { json: JSON.parse(text) };
  } catch {
    json = undefined;
  }
  if (json && typeof expected === "string") {
    if ((await payloadHash(json)) === expected) return json;
    if ((await payloadHash(bytes)) === expected) return bytes;
    // Text pasted with a different line ending or a trailing newline: try the trimmed text.
    if (!fromFile && (await payloadHash(new TextEncoder().encode(text.trim()))) === expected)
      return new TextEncoder().encode(text.trim());
    return json;
  }
  return json && !fromFile ? json : bytes;
}

function badge(kind: string, text: string): HTMLElement {
  return h("span", { class: `badge badge-${kind.toLowerCase()}` }, text);
}

interface TimelineItem {
  at: string;
  label: string;
  cls: string;
}

function timeline(
  entryTime: string | undefined,
  seq: number | undefined,
  cert: DirCertificate | undefined,
  report: Report,
  judgedAt?: Date,
): HTMLElement {
  const items: TimelineItem[] = [];
  const c = report.subject?.certificate;
  const issued = cert?.notBefore ?? c?.notBefore;
  if (issued)
    items.push({ at: issued, label: `Certificate ${c?.serial ?? cert?.serial ?? ""} issued`, cls: "tl-issued" });
  if (entryTime)
    items.push({
      at: entryTime,
      label: `Operation signed and logged${seq !== undefined ? ` as entry ${seq}` : ""}`,
      cls: "tl-signed",
    });
  if (cert?.supersededAt)
    items.push({
      at: cert.supersededAt,
      label: "Certificate superseded (the agent's key was rotated)",
      cls: "tl-superseded",
    });
  if (cert?.disabledAt)
    items.push({
      at: cert.disabledAt,
      label: "Key disabled in KMS (it can no longer sign; old signatures still verify)",
      cls: "tl-disabled",
    });
  const revokedAt =
    cert?.revokedAt ?? (report.subject?.revocation?.status === "revoked" ? report.subject.revocation.date : undefined);
  if (revokedAt) {
    const reason = cert?.revocationReason ?? report.subject?.revocation?.reason;
    items.push({ at: revokedAt, label: `Certificate revoked${reason ? ` (${reason})` : ""}`, cls: "tl-revoked" });
  }
  const notAfter = cert?.notAfter ?? c?.notAfter;
  if (notAfter) items.push({ at: notAfter, label: "Certificate expires", cls: "tl-expires" });
  if (judgedAt)
    items.push({ at: judgedAt.toISOString(), label: "The time chosen to judge this receipt as at", cls: "tl-judged" });
  items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const signedAt = entryTime ? Date.parse(entryTime) : NaN;
  const now = Date.now();
  const ol = h("ol", { class: "timeline", id: "timeline" });
  for (const it of items) {
    const t = Date.parse(it.at);
    const cls = [it.cls, !Number.isNaN(signedAt) && t > signedAt ? "tl-later" : "", t > now ? "tl-future" : ""]
      .filter(Boolean)
      .join(" ");
    ol.append(
      h(
        "li",
        { class: cls },
        h("time", { datetime: it.at }, fmtTime(it.at)),
        it.label + (t > now ? " (in the future)" : ""),
      ),
    );
  }
  return ol;
}

function headline(report: Report, agentLabel: string, payloadChecked: boolean): string {
  const s = report.subject;
  const when = s?.time ? ` on ${fmtTime(s.time)}` : "";
  if (report.verdict === "PASSED") {
    return `This operation was signed by ${agentLabel}${when} and has not been altered since.${payloadChecked ? " The payload you supplied is the one that was signed." : ""}`;
  }
  const first =
    report.findings.find((f) => f.verdict === report.verdict) ?? report.findings.find((f) => f.verdict !== "PASSED");
  const err = report.errors[0];
  const plain = plainReason(first?.code ?? err?.code, first?.reason) ?? first?.message ?? err?.message ?? "";
  return report.verdict === "FAILED"
    ? `Do not rely on this receipt. ${plain}`
    : `The evidence is not enough to decide. ${plain}`;
}

/** The time a result was judged as at: the chosen one, or the clock's; and the verdict now when it differs. */
interface Judged {
  at: Date;
  chosen: boolean;
  differsNow?: { at: Date; verdict: Report["verdict"] };
}

function renderResult(out: HTMLElement, report: Report, receipt: Json, payloadChecked: boolean, judged: Judged): void {
  const entry = isObj(receipt.entry) ? receipt.entry : {};
  const dir = directory();
  const serial = String(
    report.subject?.certificate?.serial ?? (isObj(entry.signer) ? entry.signer.cert : "") ?? "",
  ).toLowerCase();
  const dirCert = certificatesBySerial(dir).get(serial);
  const agentId = String(report.subject?.agent ?? entry.agent ?? "");
  const dirAgent = dir.agents.find((a) => a.id === agentId);
  const agentLabel = dirAgent ? `the agent “${dirAgent.name}” (${agentId})` : `the agent ${agentId || "(unknown)"}`;
  const issuerId = String(report.subject?.issuer ?? entry.issuer ?? "");
  const issuerName = dirAgent?.issuerName ?? dir.issuers.find((i) => i.id === issuerId)?.name;
  const c = report.subject?.certificate;

  const details = h("dl", { class: "details", id: "details" });
  const rows: [HTMLElement, HTMLElement][] = [
    dd("Agent", dirAgent ? `${dirAgent.name} ` : "", h("code", {}, agentId || "unknown")),
    dd("Issuer (firm)", issuerName ? `${issuerName} ` : "", h("code", {}, issuerId || "unknown")),
    dd(
      "Operation",
      `${String(entry.type ?? "")}, entry ${String(entry.seq ?? "?")} of the firm's log, ${fmtTime(String(entry.time ?? ""))}`,
    ),
    dd("Payload fingerprint (SHA-256)", h("code", {}, String(entry.payloadHash ?? ""))),
    dd("Certificate serial", h("code", { id: "cert-serial" }, serial || "unknown")),
  ];
  if (c) rows.push(dd("Certificate valid", `${fmtTime(c.notBefore)} – ${fmtTime(c.notAfter)}`));
  if (c?.subject) rows.push(dd("Certificate subject", c.subject));
  const certStatus = dirCert?.status;
  if (certStatus)
    rows.push(
      dd(
        "Certificate status",
        badge(certStatus, certStatus),
        dirCert?.supersededAt
          ? ` since ${fmtTime(dirCert.supersededAt)}`
          : dirCert?.revokedAt
            ? ` since ${fmtTime(dirCert.revokedAt)}${dirCert.revocationReason ? ` (${dirCert.revocationReason})` : ""}`
            : "",
      ),
    );
  const rev = report.subject?.revocation;
  if (rev)
    rows.push(
      dd(
        "Revocation list",
        rev.status === "good"
          ? `not revoked (CRL #${rev.crlNumber ?? "?"})`
          : rev.status === "revoked"
            ? `revoked ${fmtTime(rev.date)}${rev.reason ? ` (${rev.reason})` : ""} (CRL #${rev.crlNumber ?? "?"})`
            : "unknown",
      ),
    );
  if (dirCert?.keyState) {
    const disabled = dirCert.keyState.toLowerCase() !== "enabled";
    rows.push(
      dd(
        "Signing key",
        h("span", { id: "key-state" }, badge(dirCert.keyState, dirCert.keyState)),
        disabled && dirCert.disabledAt ? ` since ${fmtTime(dirCert.disabledAt)}` : "",
        disabled
          ? " — the key can no longer sign; signatures it made before stay verifiable with the public key in the certificate."
          : "",
        dirCert.keyArn ? h("br") : "",
        dirCert.keyArn ? h("code", { class: "hint" }, dirCert.keyArn) : "",
      ),
    );
  } else {
    rows.push(
      dd(
        "Signing key",
        h("span", { id: "key-state" }, "state unknown: this certificate is not in the directory this portal has."),
      ),
    );
  }
  if (report.subject?.checkpoint)
    rows.push(
      dd("Checkpoint", `log size ${report.subject.checkpoint.size} at ${fmtTime(report.subject.checkpoint.time)}`),
    );
  rows.push(...logRows(report));
  for (const [dt, ddEl] of rows) details.append(dt, ddEl);

  const reasons = reasonsList(report);
  const name = `kakunin-receipt-report-${agentId || "unknown"}-${String(entry.seq ?? "x")}.json`;
  const verdict = verdictBox(report, headline(report, agentLabel, payloadChecked));
  verdict.append(judgedAtNote(judged.at, judged.chosen, judged.differsNow));
  out.replaceChildren(
    h("h2", { class: "visually-hidden" }, "Result"),
    verdict,
    reasons ? h("div", {}, h("h2", {}, "Reasons"), reasons) : "",
    h("h2", {}, "Details"),
    details,
    h("h3", {}, "Timeline"),
    timeline(
      typeof entry.time === "string" ? entry.time : undefined,
      typeof entry.seq === "number" ? entry.seq : undefined,
      dirCert,
      report,
      judged.chosen ? judged.at : undefined,
    ),
    h(
      "p",
      { class: "print-only" },
      `Verified in the Kakunin portal on ${fmtTime(new Date().toISOString())}, judged as at ${fmtTime(judged.at.toISOString())}${judged.chosen ? " (a chosen time)" : ""}, against the pinned CA ${report.subject?.ca?.fingerprint ?? ""}.`,
    ),
    technicalSection(report, name),
  );
  out.hidden = false;
}

export function initReceiptPage(): void {
  const form = $<HTMLFormElement>("receipt-form");
  const status = $("status");
  const out = $("result");
  const receiptIn = new TextOrFile(
    $<HTMLTextAreaElement>("receipt"),
    $<HTMLInputElement>("receipt-file"),
    $("receipt-status"),
    { maxTextChars: 4 << 20 },
  );
  const payloadIn = new TextOrFile(
    $<HTMLTextAreaElement>("payload"),
    $<HTMLInputElement>("payload-file"),
    $("payload-status"),
    { maxTextChars: 64 << 20 },
  );
  const button = $<HTMLButtonElement>("verify");
  const judgeIn = $<HTMLInputElement>("judge-at");
  const fromLink = judgeTimeFromUrl(location.href);
  const linkNote = () => {
    $("judge-at-status").textContent =
      fromLink !== undefined && judgeIn.value === fromLink
        ? "This time was set by the link you opened (?at=…). Empty the field to judge as at now."
        : "";
  };
  if (fromLink !== undefined) judgeIn.value = fromLink;
  linkNote();
  judgeIn.addEventListener("input", linkNote);

  form.addEventListener("reset", () => {
    receiptIn.reset();
    payloadIn.reset();
    clearErrors("receipt", "payload", "judge-at");
    out.hidden = true;
    out.replaceChildren();
    status.textContent = "";
    $("judge-at-status").textContent = "";
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      clearErrors("receipt", "payload", "judge-at");
      out.hidden = true;
      const judgeAt = parseJudgeTime(judgeIn.value);
      if ("error" in judgeAt) {
        fieldError("judge-at", judgeAt.error);
        judgeIn.focus();
        return;
      }
      const parsed = parseReceiptText(receiptIn.value().text);
      if ("error" in parsed) {
        fieldError("receipt", parsed.error);
        $("receipt").focus();
        return;
      }
      const trust = trustAnchor();
      if (!trust) {
        fieldError(
          "receipt",
          "This portal pins no certificate authority (it was built without a directory), so it cannot verify anything.",
        );
        return;
      }
      button.disabled = true;
      status.textContent = "Verifying in your browser…";
      try {
        await ready(); // the load-time refresh (if any) has settled: from here on, no network.
        const p = payloadIn.value();
        const havePayload = p.bytes.length > 0 || p.fromFile;
        const entry = parsed.receipt.entry as Json;
        // The clock is read once and passed on, so the report's validationTime is the time shown.
        const judged: Judged = { at: judgeAt.at ?? new Date(), chosen: judgeAt.at !== undefined };
        const opts: Parameters<typeof verifyReceipt>[1] = {
          trust: await trustMaterial(trust),
          crls: crls(),
          now: judged.at,
        };
        if (havePayload) opts.payload = await payloadOption(p.bytes, p.text, p.fromFile, entry.payloadHash);
        const report = await verifyReceipt(parsed.receipt, opts);
        if (judged.chosen) {
          const now = new Date();
          const today = await verifyReceipt(parsed.receipt, { ...opts, now });
          if (today.verdict !== report.verdict) judged.differsNow = { at: now, verdict: today.verdict };
        }
        const malformed = report.steps.find((s) => s.name === "parse" && s.status === "failed");
        if (malformed) {
          const err = report.errors[0];
          fieldError(
            "receipt",
            `This receipt is damaged or incomplete: ${err?.message ?? "it does not follow the receipt format"}${err?.field ? ` (field ${err.field})` : ""}.`,
          );
          status.textContent = "";
          $("receipt").focus();
          return;
        }
        renderResult(out, report, parsed.receipt, havePayload, judged);
        status.textContent = `Verification finished: ${report.verdict === "PASSED" ? "Valid" : report.verdict === "FAILED" ? "Invalid" : "Cannot be determined"}.`;
        focusResult(out);
      } catch (err) {
        fieldError("receipt", `The receipt could not be verified: ${err instanceof Error ? err.message : String(err)}`);
        status.textContent = "";
      } finally {
        button.disabled = false;
      }
    })();
  });
}
