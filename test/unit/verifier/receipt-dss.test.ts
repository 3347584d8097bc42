/**
 * The DSS-shaped simple/detailed reports of a receipt (report/from-steps.ts) are built from the
 * steps its verification ran: whatever the steps' outcomes, the simple report's verdict is the
 * report's own (one verdict per input, whichever report a reader looks at).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VerificationError } from "../../../verifier/src/errors.js";
import { ReportBuilder, type Step } from "../../../verifier/src/report.js";
import { receiptValidationReports } from "../../../verifier/src/report/from-steps.js";

const CORE = ["parse", "trust root", "certificate path", "CRL", "entry signature"] as const;
const OPTIONAL = ["log inclusion", "checkpoint signature", "witness quorum", "checkpoint", "payload"] as const;
const status = fc.constantFrom<Step["status"]>("passed", "failed", "indeterminate");
const CODES: Record<string, string> = {
  "trust root": "ERR_UNTRUSTED_ROOT",
  "certificate path": "ERR_CERT_PATH",
  CRL: "ERR_CRL",
  "entry signature": "ERR_SIG_INVALID",
  "log inclusion": "ERR_INCLUSION",
  "checkpoint signature": "ERR_LOG_SIGNATURE",
  "witness quorum": "ERR_WITNESS_QUORUM",
  checkpoint: "ERR_CHECKPOINT",
  payload: "ERR_PAYLOAD_MISMATCH",
  "certificate status": "ERR_NO_POE",
};

function report(steps: [string, Step["status"]][], revoked: boolean) {
  const rb = new ReportBuilder("receipt");
  rb.report.subject = {
    certificate: {
      serial: "ab",
      notBefore: "2026-01-01T00:00:00.000Z",
      notAfter: "2027-01-01T00:00:00.000Z",
      fingerprint: "sha256:00",
    },
    revocation: { status: revoked ? "revoked" : "good" },
    time: "2026-06-01T00:00:00.000Z",
  };
  for (const [name, st] of steps) {
    const message = `${name} is ${st}`;
    if (st === "skipped") rb.step(name, st, "skipped");
    else if (st === "passed") rb.step(name, st, `${name} ok`);
    else {
      rb.error(new VerificationError((CODES[name] ?? "ERR_MALFORMED") as never, message), st);
      rb.step(name, st, message);
    }
  }
  return rb.build();
}

describe("receipt DSS reports from steps", () => {
  it("property: the simple and detailed verdicts equal the report's verdict", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Step["status"]>("passed", "failed"),
        fc.tuple(status, status, status, status),
        fc.array(fc.constantFrom<Step["status"]>("passed", "failed", "indeterminate", "skipped"), {
          minLength: OPTIONAL.length,
          maxLength: OPTIONAL.length,
        }),
        status,
        fc.boolean(),
        (parse, core, optional, certStatus, revoked) => {
          const steps: [string, Step["status"]][] = [["parse", parse]];
          if (parse === "passed") {
            CORE.slice(1).forEach((n, i) => steps.push([n, core[i]!]));
            OPTIONAL.forEach((n, i) => steps.push([n, optional[i]!]));
            // The certificate status is judged only once the signature verified.
            if (core[3] === "passed") steps.push(["certificate status", certStatus]);
          }
          const r = report(steps, revoked);
          const dss = receiptValidationReports(r, new Date("2026-07-01T00:00:00Z"), undefined);
          expect(dss.simple.verdict, JSON.stringify(steps)).toBe(r.verdict);
          expect(dss.detailed.verdict).toBe(r.verdict);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("the deciding block's code is the step's first error code", () => {
    const r = report(
      [
        ["parse", "passed"],
        ["trust root", "passed"],
        ["certificate path", "passed"],
        ["CRL", "passed"],
        ["entry signature", "passed"],
        ["log inclusion", "passed"],
        ["checkpoint signature", "indeterminate"],
        ["certificate status", "passed"],
      ],
      false,
    );
    const dss = receiptValidationReports(r, new Date(), undefined);
    expect(dss.simple).toMatchObject({
      verdict: "INDETERMINATE",
      message: expect.stringMatching(/^checkpoint signature/),
    });
    expect(dss.detailed.blocks.additional).toContainEqual(
      expect.objectContaining({ name: "checkpoint signature", indication: "INDETERMINATE", code: "ERR_LOG_SIGNATURE" }),
    );
  });
});
