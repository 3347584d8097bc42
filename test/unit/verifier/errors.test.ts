/**
 * The one VerificationError, its stable codes and the code → ETSI reason table (errors.ts), the
 * README's table of them, and how checks turn errors into problems and findings (checks/problem.ts).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, ERROR_REASONS, reasonOf, VerificationError } from "../../../verifier/src/index.js";
import { malformed } from "../../../verifier/src/errors.js";
import { failed, findingOf, indeterminate, unreadable, untrustedRoot } from "../../../verifier/src/checks/problem.js";
import { TimestampMalformedError, TimestampRejectedError } from "../../../verifier/src/timestamp/index.js";
import { decodeLine, INVALID_UTF8 } from "../../../verifier/src/export/line-decoding.js";

/** The codes reports carry, in their documented order: tests, FORMATS.md and the portal depend on them. */
const STABLE_CODES = [
  "ERR_MALFORMED",
  "ERR_UNTRUSTED_ROOT",
  "ERR_CERT_PATH",
  "ERR_CRL",
  "ERR_CHAIN_BROKEN",
  "ERR_WRONG_ISSUER",
  "ERR_HASH_MISMATCH",
  "ERR_SIG_INVALID",
  "ERR_UNKNOWN_SIGNER",
  "ERR_SIGNER_MISMATCH",
  "ERR_REVOKED",
  "ERR_EXPIRED",
  "ERR_NOT_YET_VALID",
  "ERR_SUPERSEDED",
  "ERR_TRUNCATED",
  "ERR_CHECKPOINT",
  "ERR_PAYLOAD_MISMATCH",
  "ERR_NO_POE",
  "ERR_LIFECYCLE",
  "ERR_UNSUPPORTED",
  "ERR_INCLUSION",
  "ERR_LOG_SIGNATURE",
  "ERR_LOG_KEY_NOT_PINNED",
  "ERR_WITNESS_QUORUM",
  "ERR_COSIGNATURE",
  "ERR_EXPIRED_NO_POE",
  "ERR_TIMESTAMP",
  "ERR_TILE",
  "ERR_ENTRY_BUNDLE",
  "ERR_TREE_ROOT",
  "ERR_CONSISTENCY",
  "ERR_TREE_UNCHECKED",
];

/** `| \`ERR_X\` | REASON | meaning |` rows of verifier/README.md "Error codes". */
function readmeTable(): Map<string, string | undefined> {
  const readme = readFileSync(new URL("../../../verifier/README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Error codes"), readme.indexOf("Codes are stable"));
  const rows = new Map<string, string | undefined>();
  for (const m of section.matchAll(/^\| `(ERR_[A-Z_]+)` \| ([A-Z_]+|—) \|/gm))
    rows.set(m[1]!, m[2] === "—" ? undefined : m[2]);
  return rows;
}

describe("error codes and reasons", () => {
  it("ERROR_CODES are exactly the stable codes, in order", () => {
    expect(ERROR_CODES).toEqual(STABLE_CODES);
  });

  it("the README's error table is ERROR_REASONS, row for row", () => {
    const table = readmeTable();
    expect([...table.keys()].sort()).toEqual([...STABLE_CODES].sort());
    for (const code of STABLE_CODES) expect(reasonOf(code as keyof typeof ERROR_REASONS), code).toBe(table.get(code));
  });

  it("reasonOf: none for reserved ERR_UNSUPPORTED and for codes that never decide a finding", () => {
    expect(reasonOf("ERR_UNSUPPORTED")).toBeUndefined();
    expect(reasonOf("ERR_PROOF")).toBeUndefined();
    expect(reasonOf("ERR_TSA_MALFORMED")).toBeUndefined();
    expect(reasonOf("ERR_NO_POE")).toBe("NO_POE");
  });

  it("VerificationError carries code, message and location; subclasses keep their own name", () => {
    const e = new VerificationError("ERR_CHAIN_BROKEN", "gap", { seq: 4, line: 9, field: "entry.seq" });
    expect(e).toBeInstanceOf(Error);
    expect({ code: e.code, message: e.message, seq: e.seq, line: e.line, field: e.field, name: e.name }).toEqual({
      code: "ERR_CHAIN_BROKEN",
      message: "gap",
      seq: 4,
      line: 9,
      field: "entry.seq",
      name: "VerificationError",
    });
    expect(new VerificationError("ERR_CRL", "x").seq).toBeUndefined();
    const t = new TimestampRejectedError("no", 2, ["badAlg"]);
    expect(t).toBeInstanceOf(VerificationError);
    expect([t.code, t.name, t.field, t.status]).toEqual(["ERR_TSA_REJECTED", "TimestampRejectedError", "status", 2]);
    expect(new TimestampMalformedError("bad").code).toBe("ERR_TSA_MALFORMED");
    expect(malformed("m", { field: "f" })).toMatchObject({ code: "ERR_MALFORMED", field: "f" });
  });
});

describe("problems and findings", () => {
  it("failed / indeterminate take the reason from the table unless the step names one", () => {
    const e = new VerificationError("ERR_SIG_INVALID", "bad sig", { seq: 2 });
    expect(failed(e)).toEqual({ reason: "SIG_CRYPTO_FAILURE", error: e, level: "failed" });
    expect(indeterminate(e)).toEqual({ reason: "SIG_CRYPTO_FAILURE", error: e, level: "indeterminate" });
    expect(failed(e, "UNTRUSTED_ROOT").reason).toBe("UNTRUSTED_ROOT");
  });

  it("unreadable and untrustedRoot judge whatever was thrown, wrapping non-VerificationErrors as ERR_MALFORMED", () => {
    const cert = new VerificationError("ERR_CERT_PATH", "not a CA");
    expect(untrustedRoot(cert)).toMatchObject({ reason: "UNTRUSTED_ROOT", error: cert, level: "failed" });
    expect(unreadable(new TypeError("boom"))).toMatchObject({
      reason: "FORMAT_FAILURE",
      error: { code: "ERR_MALFORMED", message: "TypeError: boom" },
    });
    expect(untrustedRoot("odd")).toMatchObject({
      reason: "UNTRUSTED_ROOT",
      error: { code: "ERR_MALFORMED", message: "odd" },
    });
  });

  it("findingOf: seq, line, verdict, reason, code, message in that order (reports are compared as JSON)", () => {
    const p = indeterminate(new VerificationError("ERR_NO_POE", "revoked", { seq: 5 }));
    expect(JSON.stringify(findingOf(p, { seq: 5, line: 12 }))).toBe(
      '{"seq":5,"line":12,"verdict":"INDETERMINATE","reason":"NO_POE","code":"ERR_NO_POE","message":"revoked"}',
    );
    expect(JSON.stringify(findingOf(failed(new VerificationError("ERR_UNSUPPORTED", "x")), {}))).toBe(
      '{"verdict":"FAILED","code":"ERR_UNSUPPORTED","message":"x"}',
    );
  });
});

describe("export line decoding", () => {
  it("decodeLine gives the text of valid UTF-8 and INVALID_UTF8 otherwise, never U+FFFD", () => {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    expect(decodeLine(decoder, new TextEncoder().encode('{"kind":"é"}'))).toBe('{"kind":"é"}');
    expect(decodeLine(decoder, Uint8Array.from([0x7b, 0xff, 0x7d]))).toBe(INVALID_UTF8);
    expect(decodeLine(decoder, Uint8Array.from([0xe2, 0x82]))).toBe(INVALID_UTF8);
  });
});
