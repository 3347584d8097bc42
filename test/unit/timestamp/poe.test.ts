/**
 * Past signature validation over in-process tokens (the responder of scripts/tsa with local keys):
 * every branch of the decision, with an injected clock. The same cases against the real dev TSA
 * and `openssl ts -reply` are in test/integration/timestamp/past-signature.test.ts.
 */
import "reflect-metadata";
import { createHash } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { Responder } from "../../../scripts/tsa/responder.js";
import {
  buildTimestampRequest,
  extractTimestampToken,
  validatePastSignature,
  type CheckpointEvidence,
  type SigningCertificateFacts,
  type TsaPolicy,
} from "../../../verifier/src/timestamp/index.js";
import { checkpointCovering } from "../../helpers/tsa-evidence.js";
import { issue, rsaKey, signDigestWith, testTsa, type TestKey } from "./fixtures.js";

const sha256 = (s: string) => new Uint8Array(createHash("sha256").update(s, "utf8").digest());
const T = (s: string) => new Date(s);
const GEN = T("2026-06-01T12:00:00Z");

async function stamp(responder: Responder, text: string): Promise<Uint8Array> {
  return extractTimestampToken(await responder.respond(buildTimestampRequest(sha256(text)).der));
}

/** A TSA whose CA may sign CRLs, with a settable clock. */
async function crlTsa() {
  let now = GEN;
  const caKey: TestKey = await rsaKey();
  const tsaKey = await rsaKey();
  const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
  const ca = await x509.X509CertificateGenerator.create({
    serialNumber: "0c01",
    subject: "CN=Unit CRL TSA CA",
    issuer: "CN=Unit CRL TSA CA",
    notBefore: T("2026-01-01T00:00:00Z"),
    notAfter: T("2028-01-01T00:00:00Z"),
    signingAlgorithm: RSA,
    publicKey: caKey.pub,
    signingKey: caKey.priv,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const tsa = await issue("CN=Unit CRL TSA", tsaKey, { name: ca.subject, key: caKey }, { serial: "0d01" });
  const responder = new Responder({
    certificate: new Uint8Array(tsa.rawData),
    policy: "1.2.3.4.5",
    signDigest: signDigestWith(tsaKey),
    now: () => now,
    accuracySeconds: 1,
  });
  // An entry without reasonCode carries invalidityDate: @peculiar/x509 writes an empty (invalid, SIZE 1..MAX) extensions SEQUENCE otherwise.
  const crl = async (
    entries: { date: Date; reason?: x509.X509CrlReason }[],
    thisUpdate: Date,
    nextUpdate = new Date(thisUpdate.getTime() + 7 * 86_400_000),
  ) =>
    new Uint8Array(
      (
        await x509.X509CrlGenerator.create({
          issuer: ca.subject,
          thisUpdate,
          nextUpdate,
          signingAlgorithm: RSA,
          signingKey: caKey.priv,
          entries: entries.map((e) => ({
            serialNumber: tsa.serialNumber,
            revocationDate: e.date,
            ...(e.reason !== undefined ? { reason: e.reason } : { invalidity: e.date }),
          })),
        })
      ).rawData,
    );
  return { ca, tsa, responder, crl, setNow: (d: Date) => (now = d) };
}

const cert = (o: Partial<SigningCertificateFacts> = {}): SigningCertificateFacts => ({
  serial: "0101",
  subject: "CN=agent-7",
  notBefore: T("2026-01-01T00:00:00Z").getTime(),
  notAfter: T("2026-12-31T00:00:00Z").getTime(),
  ...o,
});
const revokedAt = (iso: string, reason = "keyCompromise") => ({ revocation: { date: T(iso).getTime(), reason } });

describe("past signature validation: revoked certificate", async () => {
  const t = await testTsa({}, () => GEN);
  const covered = await checkpointCovering(3, 8);
  const token = await stamp(t.responder, covered.checkpointText);
  const policy: TsaPolicy = { trusted: [new Uint8Array(t.ca.rawData)] };
  const evidence = (tokens: Uint8Array[], o: Partial<CheckpointEvidence> = {}): CheckpointEvidence[] => [
    { ...covered, tokens, ...o },
  ];
  const now = T("2026-07-01T00:00:00Z");

  it("revoked for keyCompromise after the token's genTime: PASSED, the deciding POE names TSA, time and checkpoint", async () => {
    const r = await validatePastSignature({
      certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
      evidence: evidence([token]),
      tsa: policy,
      now,
    });
    expect(r.indication).toBe("PASSED");
    expect(r.control).toEqual({ kind: "revocation", time: "2026-06-01T12:00:05.000Z", reason: "keyCompromise" });
    expect(r.decidingPoe).toMatchObject({
      time: "2026-06-01T12:00:00.000Z",
      latest: "2026-06-01T12:00:01.000Z",
      accuracyMs: 1000,
      tsa: { name: "CN=Unit TSA", policy: "1.2.3.4.5" },
      checkpoint: { evidence: 0, origin: "kakunin.test/log/issuer-1", size: 8 },
    });
    expect(r.bestPoe).toEqual(r.decidingPoe);
    expect(r.tokens).toMatchObject([{ status: "accepted", code: "OK", tsaRevocation: { verdict: "unknown" } }]);
  });

  it("no timestamps: INDETERMINATE REVOKED_NO_POE", async () => {
    const r = await validatePastSignature({
      certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
      evidence: evidence([]),
      tsa: policy,
      now,
    });
    expect(r).toMatchObject({ indication: "INDETERMINATE", subIndication: "REVOKED_NO_POE", tokens: [] });
    expect(r.message).toMatch(/no timestamp was given/);
    expect(
      (
        await validatePastSignature({
          certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
          evidence: [],
          tsa: policy,
          now,
        })
      ).subIndication,
    ).toBe("REVOKED_NO_POE");
  });

  it("genTime after the revocation, or within accuracy of its second: INDETERMINATE, the token rejected for its time", async () => {
    for (const at of ["2026-06-01T11:59:00Z", "2026-06-01T12:00:00.999Z", "2026-06-01T12:00:01.500Z"]) {
      const r = await validatePastSignature({
        certificate: cert(revokedAt(at)),
        evidence: evidence([token]),
        tsa: policy,
        now,
      });
      expect(r, at).toMatchObject({
        indication: "INDETERMINATE",
        subIndication: "REVOKED_NO_POE",
        tokens: [{ status: "rejected", code: "ERR_POE_AFTER_REVOCATION" }],
      });
      expect(r.bestPoe?.time).toBe("2026-06-01T12:00:00.000Z"); // still the best signature time, only not early enough
    }
    // genTime 12:00:00, accuracy 1 s → latest 12:00:01; a revocation in second 12:00:02 is after it.
    expect(
      (
        await validatePastSignature({
          certificate: cert(revokedAt("2026-06-01T12:00:02.000Z")),
          evidence: evidence([token]),
          tsa: policy,
          now,
        })
      ).indication,
    ).toBe("PASSED");
  });

  it("a token from a TSA that is not pinned: INDETERMINATE, ERR_TSA_UNTRUSTED", async () => {
    const rogue = await testTsa({}, () => GEN);
    const r = await validatePastSignature({
      certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
      evidence: evidence([await stamp(rogue.responder, covered.checkpointText)]),
      tsa: policy,
      now,
    });
    expect(r).toMatchObject({
      indication: "INDETERMINATE",
      subIndication: "REVOKED_NO_POE",
      tokens: [{ status: "rejected", code: "ERR_TSA_UNTRUSTED" }],
    });
    expect(r.bestPoe).toBeUndefined();
  });

  it("a token over another checkpoint text: INDETERMINATE, ERR_POE_IMPRINT", async () => {
    const other = await checkpointCovering(3, 9);
    const r = await validatePastSignature({
      certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
      evidence: evidence([await stamp(t.responder, other.checkpointText)]),
      tsa: policy,
      now,
    });
    expect(r).toMatchObject({ indication: "INDETERMINATE", tokens: [{ status: "rejected", code: "ERR_POE_IMPRINT" }] });
  });

  it("a checkpoint that does not cover the entry: no inclusion proof, another tree, leaf outside: ERR_POE_COVERAGE", async () => {
    const other = await checkpointCovering(3, 9);
    const cases: Partial<CheckpointEvidence>[] = [
      { inclusion: undefined },
      { inclusion: other.inclusion },
      { inclusion: { ...covered.inclusion, leafIndex: 8 } },
      { inclusion: { ...covered.inclusion, rootHash: other.inclusion.rootHash } },
    ];
    for (const c of cases) {
      const r = await validatePastSignature({
        certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
        evidence: evidence([token], c),
        tsa: policy,
        now,
      });
      expect(r).toMatchObject({
        indication: "INDETERMINATE",
        tokens: [{ status: "rejected", code: "ERR_POE_COVERAGE" }],
      });
    }
  });

  it("a flipped byte: in TSTInfo HASH_FAILURE, in the signature SIG_CRYPTO_FAILURE, truncated FORMAT_FAILURE — FAILED even beside a good token", async () => {
    const inTst = new Uint8Array(token);
    const genTimeAt = Buffer.from(inTst).indexOf(Buffer.from("20260601120000Z"));
    expect(genTimeAt).toBeGreaterThan(0);
    inTst[genTimeAt + 11]! ^= 0x01; // 12:00:00 → 12:00:10 inside the signed TSTInfo
    const inSig = new Uint8Array(token);
    inSig[inSig.length - 10]! ^= 0x01;
    const cases: [Uint8Array, string][] = [
      [inTst, "HASH_FAILURE"],
      [inSig, "SIG_CRYPTO_FAILURE"],
      [token.subarray(0, token.length - 1), "FORMAT_FAILURE"],
    ];
    for (const [bad, sub] of cases) {
      const r = await validatePastSignature({
        certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
        evidence: evidence([token, bad]),
        tsa: policy,
        now,
      });
      expect(r, sub).toMatchObject({
        indication: "FAILED",
        subIndication: sub,
        tokens: [{ status: "accepted" }, { status: "tampered" }],
      });
      expect(r.decidingPoe).toBeUndefined();
    }
  });

  it("policy: a TSAPolicyId not accepted is ERR_TSA_MISMATCH; a genTime in the future is ERR_POE_FUTURE", async () => {
    const r = await validatePastSignature({
      certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
      evidence: evidence([token]),
      tsa: { ...policy, acceptedPolicies: ["1.2.3.4.6"] },
      now,
    });
    expect(r.tokens).toMatchObject([{ status: "rejected", code: "ERR_TSA_MISMATCH" }]);
    const early = await validatePastSignature({
      certificate: cert(revokedAt("2026-06-01T12:00:05Z")),
      evidence: evidence([token]),
      tsa: policy,
      now: T("2026-06-01T11:00:00Z"),
    });
    expect(early.tokens).toMatchObject([{ status: "rejected", code: "ERR_POE_FUTURE" }]);
  });

  it("of several checkpoints and TSAs, the earliest usable proof decides", async () => {
    const later = await testTsa({}, () => T("2026-06-01T12:30:00Z"));
    const bigger = await checkpointCovering(3, 12);
    const ev: CheckpointEvidence[] = [
      { ...bigger, tokens: [await stamp(later.responder, bigger.checkpointText)] },
      { ...covered, tokens: [token] },
    ];
    const r = await validatePastSignature({
      certificate: cert(revokedAt("2026-06-01T13:00:00Z")),
      evidence: ev,
      tsa: { trusted: [new Uint8Array(t.ca.rawData), new Uint8Array(later.ca.rawData)] },
      now,
    });
    expect(r.indication).toBe("PASSED");
    expect(r.decidingPoe).toMatchObject({ time: "2026-06-01T12:00:00.000Z", checkpoint: { evidence: 1, size: 8 } });
    expect(r.tokens.map((x) => x.status)).toEqual(["accepted", "accepted"]);
  });

  it("a proof of existence before the certificate's notBefore: FAILED NOT_YET_VALID", async () => {
    const r = await validatePastSignature({
      certificate: cert({ notBefore: T("2026-06-02T00:00:00Z").getTime(), ...revokedAt("2026-06-03T00:00:00Z") }),
      evidence: evidence([token]),
      tsa: policy,
      now,
    });
    expect(r).toMatchObject({ indication: "FAILED", subIndication: "NOT_YET_VALID" });
  });

  it("a certificate valid and not revoked at the validation time needs no POE: PASSED, the best POE still reported", async () => {
    const r = await validatePastSignature({ certificate: cert(), evidence: evidence([token]), tsa: policy, now });
    expect(r).toMatchObject({ indication: "PASSED", control: null });
    expect(r.bestPoe?.time).toBe("2026-06-01T12:00:00.000Z");
    expect(r.decidingPoe).toBeUndefined();
  });
});

describe("past signature validation: expired certificate (injected clock)", async () => {
  const t = await testTsa({}, () => GEN);
  const covered = await checkpointCovering(0, 1);
  const token = await stamp(t.responder, covered.checkpointText);
  const policy: TsaPolicy = { trusted: [new Uint8Array(t.ca.rawData)] };
  const expiring = (notAfter: string) => cert({ notAfter: T(notAfter).getTime() });

  it("expired after the token: PASSED; before the clock passes notAfter no POE is needed", async () => {
    const r = await validatePastSignature({
      certificate: expiring("2026-06-01T12:10:00Z"),
      evidence: [{ ...covered, tokens: [token] }],
      tsa: policy,
      now: T("2026-09-01T00:00:00Z"),
    });
    expect(r).toMatchObject({
      indication: "PASSED",
      control: { kind: "expiry", time: "2026-06-01T12:10:00.000Z" },
      decidingPoe: { time: "2026-06-01T12:00:00.000Z" },
    });
    const before = await validatePastSignature({
      certificate: expiring("2026-06-01T12:10:00Z"),
      evidence: [{ ...covered, tokens: [] }],
      tsa: policy,
      now: T("2026-06-01T12:05:00Z"),
    });
    expect(before).toMatchObject({ indication: "PASSED", control: null });
  });

  it("no timestamps, a token after notAfter, an untrusted TSA: INDETERMINATE EXPIRED_NO_POE", async () => {
    const now = T("2026-09-01T00:00:00Z");
    const none = await validatePastSignature({
      certificate: expiring("2026-06-01T12:10:00Z"),
      evidence: [{ ...covered, tokens: [] }],
      tsa: policy,
      now,
    });
    expect(none).toMatchObject({ indication: "INDETERMINATE", subIndication: "EXPIRED_NO_POE" });
    const late = await validatePastSignature({
      certificate: expiring("2026-06-01T11:00:00Z"),
      evidence: [{ ...covered, tokens: [token] }],
      tsa: policy,
      now,
    });
    expect(late).toMatchObject({
      indication: "INDETERMINATE",
      subIndication: "EXPIRED_NO_POE",
      tokens: [{ code: "ERR_POE_AFTER_EXPIRY" }],
    });
    const rogue = await testTsa({}, () => GEN);
    const untrusted = await validatePastSignature({
      certificate: expiring("2026-06-01T12:10:00Z"),
      evidence: [{ ...covered, tokens: [await stamp(rogue.responder, covered.checkpointText)] }],
      tsa: policy,
      now,
    });
    expect(untrusted).toMatchObject({
      indication: "INDETERMINATE",
      subIndication: "EXPIRED_NO_POE",
      tokens: [{ code: "ERR_TSA_UNTRUSTED" }],
    });
  });

  it("revoked and expired: the earlier bound decides", async () => {
    const now = T("2026-09-01T00:00:00Z");
    const revokedFirst = await validatePastSignature({
      certificate: cert({ notAfter: T("2026-08-01T00:00:00Z").getTime(), ...revokedAt("2026-06-01T11:00:00Z") }),
      evidence: [{ ...covered, tokens: [token] }],
      tsa: policy,
      now,
    });
    expect(revokedFirst).toMatchObject({
      indication: "INDETERMINATE",
      subIndication: "REVOKED_NO_POE",
      control: { kind: "revocation" },
    });
    const expiredFirst = await validatePastSignature({
      certificate: cert({ notAfter: T("2026-06-01T11:00:00Z").getTime(), ...revokedAt("2026-08-01T00:00:00Z") }),
      evidence: [{ ...covered, tokens: [token] }],
      tsa: policy,
      now,
    });
    expect(expiredFirst).toMatchObject({
      indication: "INDETERMINATE",
      subIndication: "EXPIRED_NO_POE",
      control: { kind: "expiry" },
    });
  });
});

describe("past signature validation: the TSA's own revocation (RFC 3161 §4)", async () => {
  const x = await crlTsa();
  const covered = await checkpointCovering(1, 4);
  const token = await stamp(x.responder, covered.checkpointText);
  const trusted = [new Uint8Array(x.ca.rawData)];
  const now = T("2026-07-01T00:00:00Z");
  const run = (crls: Uint8Array[], requireRevocationData = false) =>
    validatePastSignature({
      certificate: cert(revokedAt("2026-06-02T00:00:00Z")),
      evidence: [{ ...covered, tokens: [token] }],
      tsa: { trusted, crls, requireRevocationData },
      now,
    });

  it("a current CRL not listing the TSA: good; without any CRL: unknown, rejected only when the policy requires revocation data", async () => {
    const good = await run([await x.crl([], T("2026-06-30T00:00:00Z"))], true);
    expect(good).toMatchObject({
      indication: "PASSED",
      tokens: [
        {
          tsaRevocation: {
            verdict: "ok",
            certificates: [{ subject: "CN=Unit CRL TSA", status: "good" }, { status: "anchor" }],
          },
        },
      ],
    });
    expect((await run([])).indication).toBe("PASSED");
    expect(await run([], true)).toMatchObject({
      indication: "INDETERMINATE",
      tokens: [{ code: "ERR_TSA_REVOCATION_UNKNOWN" }],
    });
    const stale = await run([await x.crl([], T("2026-06-01T00:00:00Z"), T("2026-06-08T00:00:00Z"))], true);
    expect(stale.tokens[0]).toMatchObject({
      code: "ERR_TSA_REVOCATION_UNKNOWN",
      tsaRevocation: { certificates: [{ status: "unknown", crl: { stale: true } }, { status: "anchor" }] },
    });
  });

  it("TSA key compromised, or revoked without a reasonCode: no token of it counts, even one made long before", async () => {
    for (const entry of [
      { date: T("2026-06-20T00:00:00Z"), reason: x509.X509CrlReason.keyCompromise },
      { date: T("2026-06-20T00:00:00Z") },
    ]) {
      const r = await run([await x.crl([entry], T("2026-06-30T00:00:00Z"))]);
      expect(r).toMatchObject({
        indication: "INDETERMINATE",
        subIndication: "REVOKED_NO_POE",
        tokens: [{ status: "rejected", code: "ERR_TSA_REVOKED" }],
      });
    }
  });

  it("TSA certificate superseded or ceased after the token: tokens before stay valid; before the token: rejected", async () => {
    const after = await run([
      await x.crl(
        [{ date: T("2026-06-20T00:00:00Z"), reason: x509.X509CrlReason.superseded }],
        T("2026-06-30T00:00:00Z"),
      ),
    ]);
    expect(after).toMatchObject({
      indication: "PASSED",
      tokens: [{ tsaRevocation: { verdict: "ok", certificates: [{ status: "revoked", reason: "superseded" }, {}] } }],
    });
    const before = await run([
      await x.crl(
        [{ date: T("2026-05-20T00:00:00Z"), reason: x509.X509CrlReason.cessationOfOperation }],
        T("2026-06-30T00:00:00Z"),
      ),
    ]);
    expect(before.tokens).toMatchObject([{ code: "ERR_TSA_REVOKED" }]);
  });

  it("a CRL not signed by the TSA's CA is not evidence either way", async () => {
    const other = await crlTsa();
    const r = await run(
      [
        await other.crl(
          [{ date: T("2026-05-20T00:00:00Z"), reason: x509.X509CrlReason.keyCompromise }],
          T("2026-06-30T00:00:00Z"),
        ),
      ],
      true,
    );
    expect(r.tokens).toMatchObject([{ code: "ERR_TSA_REVOCATION_UNKNOWN" }]);
  });
});
