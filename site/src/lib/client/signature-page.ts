/** Verify a bare signature against a directory agent's certificate or a pasted PEM. */
import { verifySignature, type Report } from "@kakunin/verifier";
import { certificatesBySerial } from "../directory";
import { crls, directory, pinned, ready, trustAnchor } from "./data";
import { plainReason } from "./plain";
import { reasonsList, technicalSection, verdictBox } from "./report-view";
import { $, clearErrors, fieldError, fmtTime, focusResult, h, TextOrFile } from "./ui";

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

function signatureError(text: string): string | null {
  const s = text.replace(/\s+/g, "");
  if (!s) return "Paste the signature (base64).";
  if (/^[A-Za-z0-9_-]+={0,2}$/.test(s) && /[-_]/.test(s))
    return "This looks like base64url (it has - or _): convert it to standard base64 (+ and /).";
  if (/^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0 && s.length >= 64)
    return "This looks like hexadecimal; the signature must be given in standard base64.";
  if (!B64.test(s) || s.length % 4 !== 0)
    return "This is not valid base64: only A–Z, a–z, 0–9, + and / are allowed, with = padding to a multiple of 4 characters.";
  return null;
}

function certError(pem: string): string | null {
  const t = pem.trim();
  if (!t) return "Paste the signer's certificate in PEM form, or pick an agent from the directory.";
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(t))
    return "This is not a PEM certificate: it must start with -----BEGIN CERTIFICATE----- and end with -----END CERTIFICATE-----.";
  return null;
}

function sub(report: Report, who: string): string {
  if (report.verdict === "PASSED") return `This signature over the message was made with the key of ${who}.`;
  const f = report.findings.find((x) => x.verdict !== "PASSED");
  const e = report.errors[0];
  const plain = plainReason(f?.code ?? e?.code, f?.reason) ?? f?.message ?? e?.message ?? "";
  return report.verdict === "FAILED"
    ? `Do not rely on this signature. ${plain}`
    : `The evidence is not enough to decide. ${plain}`;
}

export function initSignaturePage(): void {
  const form = $<HTMLFormElement>("signature-form");
  const out = $("result");
  const status = $("status");
  const message = new TextOrFile(
    $<HTMLTextAreaElement>("message"),
    $<HTMLInputElement>("message-file"),
    $("message-status"),
    { maxTextChars: 256 << 20 },
  );
  const select = $<HTMLSelectElement>("agent-cert");
  const pemArea = $<HTMLTextAreaElement>("cert-pem");
  const srcDir = $<HTMLInputElement>("signer-source-dir");
  const srcPem = $<HTMLInputElement>("signer-source-pem");
  const button = $<HTMLButtonElement>("verify");
  // Typing a PEM or choosing an agent selects the matching source.
  pemArea.addEventListener("input", () => {
    if (pemArea.value.trim()) srcPem.checked = true;
  });
  select.addEventListener("change", () => {
    if (!srcDir.disabled) srcDir.checked = true;
  });
  form.addEventListener("reset", () => {
    message.reset();
    clearErrors("signature", "message", "agent-cert", "cert-pem");
    out.hidden = true;
    out.replaceChildren();
    status.textContent = "";
  });

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      clearErrors("signature", "message", "agent-cert", "cert-pem");
      out.hidden = true;
      let bad: string | null = null;
      const sigText = $<HTMLTextAreaElement>("signature").value;
      const sErr = signatureError(sigText);
      if (sErr) {
        fieldError("signature", sErr);
        bad ??= "signature";
      }
      const msg = message.value();
      if (msg.bytes.length === 0 && !msg.fromFile) {
        fieldError("message", "Type the message that was signed, or choose its file.");
        bad ??= "message";
      }
      const fromDir = srcDir.checked && !srcDir.disabled;
      let pem = "";
      let who = "the certificate you pasted";
      if (fromDir) {
        const cert =
          certificatesBySerial(directory()).get(select.value) ?? certificatesBySerial(pinned()).get(select.value);
        if (!cert?.pem) {
          fieldError("agent-cert", "Pick an agent certificate from the list.");
          bad ??= "agent-cert";
        } else {
          pem = cert.pem;
          who = `the agent “${cert.agentName ?? cert.agent}” (${cert.agent}), certificate ${cert.serial}`;
        }
      } else {
        const cErr = certError(pemArea.value);
        if (cErr) {
          fieldError("cert-pem", cErr);
          bad ??= "cert-pem";
        } else pem = pemArea.value.trim();
      }
      if (bad) {
        document.getElementById(bad)?.focus();
        return;
      }
      const trust = trustAnchor();
      if (!trust) {
        fieldError(
          "signature",
          "This portal pins no certificate authority (it was built without a directory), so it cannot verify anything.",
        );
        return;
      }
      const ca = pinned().ca?.pem;
      button.disabled = true;
      status.textContent = "Verifying in your browser…";
      try {
        await ready();
        const report = await verifySignature({
          message: msg.bytes,
          signature: sigText.replace(/\s+/g, ""),
          certificate: ca ? `${pem.trim()}\n${ca.trim()}\n` : pem,
          trust,
          crls: crls(),
        });
        const parse = report.steps.find((s) => s.name === "parse" && s.status === "failed");
        if (parse) {
          const err = report.errors[0];
          const field =
            err?.field === "signature"
              ? "signature"
              : err?.field === "message"
                ? "message"
                : fromDir
                  ? "agent-cert"
                  : "cert-pem";
          fieldError(field, `This could not be read: ${err?.message ?? "malformed input"}.`);
          status.textContent = "";
          document.getElementById(field)?.focus();
          return;
        }
        const c = report.subject?.certificate;
        const details = h("dl", { class: "details", id: "details" });
        const add = (t: string, v: string) => details.append(h("dt", {}, t), h("dd", {}, v));
        if (c) {
          add("Certificate serial", c.serial);
          if (c.subject) add("Certificate subject", c.subject);
          add("Certificate valid", `${fmtTime(c.notBefore)} – ${fmtTime(c.notAfter)}`);
          const dc = certificatesBySerial(directory()).get(c.serial);
          if (dc) {
            add(
              "Certificate status",
              `${dc.status}${dc.supersededAt ? ` since ${fmtTime(dc.supersededAt)}` : ""}${dc.revokedAt ? ` since ${fmtTime(dc.revokedAt)}` : ""}`,
            );
            if (dc.keyState)
              add("Signing key", `${dc.keyState}${dc.disabledAt ? ` since ${fmtTime(dc.disabledAt)}` : ""}`);
          }
        }
        add(
          "Message",
          `${msg.bytes.length.toLocaleString("en")} bytes${msg.fromFile && message.fileName ? ` (file ${message.fileName})` : ""}`,
        );
        const reasons = reasonsList(report);
        out.replaceChildren(
          h("h2", { class: "visually-hidden" }, "Result"),
          verdictBox(report, sub(report, who)),
          reasons ? h("div", {}, h("h2", {}, "Reasons"), reasons) : "",
          h(
            "p",
            { class: "hint" },
            "A bare signature carries no time: it proves who signed, not when. For proof of when, verify the receipt or the log entry.",
          ),
          h("h2", {}, "Details"),
          details,
          technicalSection(report, `kakunin-signature-report-${c?.serial ?? "unknown"}.json`),
        );
        out.hidden = false;
        status.textContent = "Verification finished.";
        focusResult(out);
      } catch (err) {
        fieldError(
          "signature",
          `The signature could not be verified: ${err instanceof Error ? err.message : String(err)}`,
        );
        status.textContent = "";
      } finally {
        button.disabled = false;
      }
    })();
  });
}
