/** The DSS-shaped simple and detailed reports, built from real past-signature-validation results. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildValidationReports, type ReportInput } from "../../../verifier/src/report/index.js";
import {
  buildTimestampRequest,
  extractTimestampToken,
  validatePastSignature,
  type PastSignatureResult,
} from "../../../verifier/src/timestamp/index.js";
import { checkpointCovering } from "../../helpers/tsa-evidence.js";
import { testTsa } from "./fixtures.js";

const GEN = new Date("2026-06-01T12:00:00Z");
const NOW = new Date("2026-07-01T00:00:00Z");

describe("validation reports", async () => {
  const t = await testTsa({}, () => GEN);
  const covered = await checkpointCovering(3, 8);
  const token = extractTimestampToken(
    await t.responder.respond(
      buildTimestampRequest(new Uint8Array(createHash("sha256").update(covered.checkpointText).digest())).der,
    ),
  );
  const psv = (revokedAt: string, tokens = [token]) =>
    validatePastSignature({
      certificate: {
        serial: "0101",
        notBefore: Date.parse("2026-01-01T00:00:00Z"),
        notAfter: Date.parse("2026-12-31T00:00:00Z"),
        revocation: { date: Date.parse(revokedAt), reason: "keyCompromise" },
      },
      evidence: [{ ...covered, tokens }],
      tsa: { trusted: [new Uint8Array(t.ca.rawData)] },
      now: NOW,
    });
  const ok = { indication: "PASSED" as const, code: "OK" };
  const signer = { serial: "0101", subject: "CN=agent-7", agent: "spiffe://kakunin.local/agent/7" };
  const input = (pastSignature: PastSignatureResult | undefined, o: Partial<ReportInput> = {}): ReportInput => ({
    validationTime: NOW,
    format: ok,
    identification: { ...ok, signer },
    x509Chain: {
      ...ok,
      chain: [
        { serial: "0101", subject: "CN=agent-7" },
        { serial: "01", subject: "CN=Kakunin CA", trustAnchor: true },
      ],
    },
    revocationFreshness: {
      ...ok,
      revocation: {
        status: "revoked",
        date: "2026-06-01T12:00:05.000Z",
        reason: "keyCompromise",
        crl: { number: "7", thisUpdate: "2026-06-01T13:00:00.000Z", source: "receipt", stale: false },
      },
    },
    cryptographic: { ...ok, algorithm: "RSASSA-PSS-SHA256" },
    claimedSigningTime: "2026-06-01T11:59:59.120Z",
    ...(pastSignature ? { pastSignature } : {}),
    ...o,
  });

  it("PASSED by past signature validation: the simple report names signer, claimed time and the decisive POE; the detailed one every block", async () => {
    const { simple, detailed } = buildValidationReports(input(await psv("2026-06-01T12:00:05Z")));
    expect(simple).toEqual({
      format: "kakunin-simple-report/1",
      validationTime: NOW.toISOString(),
      verdict: "PASSED",
      message: expect.stringMatching(/^proof of existence at 2026-06-01T12:00:01.000Z by CN=Unit TSA/),
      signer,
      claimedSigningTime: "2026-06-01T11:59:59.120Z",
      bestPoe: {
        time: "2026-06-01T12:00:00.000Z",
        latest: "2026-06-01T12:00:01.000Z",
        tsa: "CN=Unit TSA",
        checkpoint: { origin: "kakunin.test/log/issuer-1", size: 8 },
        decisive: true,
      },
    });
    expect(Object.keys(detailed.blocks)).toEqual([
      "format",
      "identification",
      "x509Chain",
      "revocationFreshness",
      "cryptographic",
      "pastSignatureValidation",
    ]);
    expect(detailed.blocks.pastSignatureValidation).toMatchObject({
      indication: "PASSED",
      code: "OK",
      control: { kind: "revocation" },
      decidingPoe: { token: 0 },
    });
    expect(detailed.blocks.cryptographic.algorithm).toBe("RSASSA-PSS-SHA256");
    expect(detailed.poe.tokens).toMatchObject([{ status: "accepted" }]);
    // Plain JSON: what --json writes and the portal downloads.
    expect(JSON.parse(JSON.stringify(detailed))).toEqual(detailed);
  });

  it("no usable POE: INDETERMINATE REVOKED_NO_POE; a too-late token is still the best POE, not decisive", async () => {
    const none = buildValidationReports(input(await psv("2026-06-01T12:00:05Z", [])));
    expect(none.simple).toMatchObject({ verdict: "INDETERMINATE", reason: "REVOKED_NO_POE", bestPoe: null });
    expect(none.detailed.blocks.pastSignatureValidation).toMatchObject({
      indication: "INDETERMINATE",
      code: "ERR_NO_POE",
    });
    const late = buildValidationReports(input(await psv("2026-06-01T11:00:00Z")));
    expect(late.simple).toMatchObject({
      verdict: "INDETERMINATE",
      reason: "REVOKED_NO_POE",
      bestPoe: { decisive: false, time: "2026-06-01T12:00:00.000Z" },
    });
    expect(late.detailed.poe.tokens).toMatchObject([{ code: "ERR_POE_AFTER_REVOCATION" }]);
  });

  it("a tampered token: FAILED with the token's code; an earlier FAILED block decides first, and omitted blocks are NOT_EVALUATED", async () => {
    const bad = new Uint8Array(token);
    bad[bad.length - 3]! ^= 0x40;
    const tampered = buildValidationReports(input(await psv("2026-06-01T12:00:05Z", [bad])));
    expect(tampered.simple).toMatchObject({ verdict: "FAILED", reason: "SIG_CRYPTO_FAILURE" });
    expect(tampered.detailed.blocks.pastSignatureValidation.code).toBe("ERR_TSA_SIGNATURE");
    const crypto = buildValidationReports(
      input(await psv("2026-06-01T12:00:05Z"), {
        cryptographic: {
          indication: "FAILED",
          subIndication: "SIG_CRYPTO_FAILURE",
          code: "ERR_SIG_INVALID",
          message: "the signature does not verify",
        },
      }),
    );
    expect(crypto.simple).toMatchObject({
      verdict: "FAILED",
      reason: "SIG_CRYPTO_FAILURE",
      message: "cryptographic check: the signature does not verify",
    });
    const fmt = buildValidationReports({
      validationTime: NOW,
      format: {
        indication: "FAILED",
        subIndication: "FORMAT_FAILURE",
        code: "ERR_MALFORMED",
        message: "line 1: not JSON",
      },
      signer: { serial: "" },
    });
    expect(fmt.simple).toMatchObject({ verdict: "FAILED", reason: "FORMAT_FAILURE", bestPoe: null });
    expect(fmt.detailed.blocks.x509Chain).toEqual({ indication: "NOT_EVALUATED", chain: [] });
    expect(fmt.detailed.blocks.pastSignatureValidation).toEqual({ indication: "NOT_EVALUATED", control: null });
  });

  it("stale revocation data: INDETERMINATE TRY_LATER for a certificate not known revoked, but not for a revoked one (PSV decides)", async () => {
    const stale = {
      indication: "INDETERMINATE" as const,
      subIndication: "TRY_LATER" as const,
      code: "ERR_CRL",
      message: "CRL #7 is past its nextUpdate",
    };
    const valid = await validatePastSignature({
      certificate: { serial: "0101", notBefore: 0, notAfter: Date.parse("2027-01-01") },
      evidence: [],
      tsa: { trusted: [] },
      now: NOW,
    });
    const good = buildValidationReports(
      input(valid, { revocationFreshness: { ...stale, revocation: { status: "good" } } }),
    );
    expect(good.simple).toMatchObject({ verdict: "INDETERMINATE", reason: "TRY_LATER" });
    const revoked = buildValidationReports(
      input(await psv("2026-06-01T12:00:05Z"), {
        revocationFreshness: { ...stale, revocation: { status: "revoked", date: "2026-06-01T12:00:05.000Z" } },
      }),
    );
    expect(revoked.simple.verdict).toBe("PASSED");
    expect(revoked.detailed.blocks.revocationFreshness.indication).toBe("INDETERMINATE");
  });

  it("past signature validation not run while everything else passed: INDETERMINATE, never PASSED by default", () => {
    const r = buildValidationReports(input(undefined));
    expect(r.simple).toMatchObject({
      verdict: "INDETERMINATE",
      message: "past signature validation was not evaluated",
    });
    expect(r.simple.reason).toBeUndefined();
  });
});
