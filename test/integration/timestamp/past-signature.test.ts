/**
 * Past signature validation with tokens from real TSAs — the dev TSA (child process, KMS keys) and
 * `openssl ts -reply` over HTTP — fetched by the log-side client over a real checkpoint text, and
 * a real agent certificate and CRL (@peculiar/x509), read back from their DER.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestCheckpointTimestamps } from "../../../server/log/timestamping/request-timestamps.js";
import {
  parseTsaBundle,
  validatePastSignature,
  type CheckpointEvidence,
  type PastSignatureResult,
  type TsaPolicy,
} from "../../../verifier/src/timestamp/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { createOpensslTsa, type OpensslTsa } from "../../helpers/openssl-tsa.js";
import { startDevTsa, type DevTsa } from "../../helpers/tsa.js";
import {
  agentPki,
  certificateFacts,
  checkpointCovering,
  type AgentPki,
  type CoveredEntry,
} from "../../helpers/tsa-evidence.js";
import { serveTsa, type HttpTsa } from "../../helpers/tsa-http.js";

let kms: LocalKms;
let dev: DevTsa;
let ossl: OpensslTsa;
let osslHttp: HttpTsa;
let devCaPem: string;
let pki: AgentPki;
let covered: CoveredEntry;
/** Tokens over `covered.checkpointText`: [dev, openssl]; and over another checkpoint's text. */
let tokens: Uint8Array[];
let otherTokens: Uint8Array[];
let genTimes: number[];

const DAY = 86_400_000;

async function stampAll(text: string): Promise<{ tokens: Uint8Array[]; genTimes: number[] }> {
  const trusted = parseTsaBundle(devCaPem + ossl.caPem).trusted;
  const outcomes = await requestCheckpointTimestamps(text, {
    urls: [dev.url + "/", osslHttp.url],
    trusted,
    timeoutMs: 5000,
    attempts: 2,
  });
  const got = outcomes.map((o) => {
    if (o.kind !== "token") throw new Error(`${o.url}: ${o.kind}`);
    return o;
  });
  return { tokens: got.map((o) => o.token), genTimes: got.map((o) => o.genTime.getTime()) };
}

beforeAll(async () => {
  kms = await startLocalKms();
  [dev, ossl, pki] = await Promise.all([startDevTsa(kms.endpoint), createOpensslTsa(), agentPki()]);
  osslHttp = await serveTsa((q) => ossl.reply(q));
  devCaPem = await (await fetch(`${dev.url}/v1/public/tsa-ca.pem`)).text();
  covered = await checkpointCovering(5, 11);
  ({ tokens, genTimes } = await stampAll(covered.checkpointText));
  otherTokens = (await stampAll((await checkpointCovering(5, 12)).checkpointText)).tokens;
});

afterAll(async () => {
  await osslHttp?.close();
  await dev?.stop();
  await kms?.stop();
});

const both = (): TsaPolicy => parseTsaBundle(devCaPem + ossl.caPem);
const evidence = (t: Uint8Array[]): CheckpointEvidence[] => [{ ...covered, tokens: t }];
const flipped = (t: Uint8Array, at: number) => {
  const out = new Uint8Array(t);
  out[at]! ^= 0x01;
  return out;
};

interface Case {
  name: string;
  /** Builds the signing certificate's facts (from real DER) and the validation time. */
  certificate(): Promise<{ facts: Awaited<ReturnType<typeof certificateFacts>>; now: Date }>;
  /** Same, with the bound (revocation / notAfter) before the tokens. */
  tooEarly(): Promise<{ facts: Awaited<ReturnType<typeof certificateFacts>>; now: Date }>;
  noPoe: "REVOKED_NO_POE" | "EXPIRED_NO_POE";
}

const last = () => Math.max(...genTimes);
const first = () => Math.min(...genTimes);

async function revoked(at: number) {
  const cert = await pki.issue(new Date(first() - DAY), new Date(first() + 30 * DAY));
  const crl = await pki.crl(
    [{ cert, date: new Date(at), reason: x509.X509CrlReason.keyCompromise }],
    new Date(at + 1000),
  );
  return { facts: await certificateFacts(cert.rawData, pki.ca, crl.rawData), now: new Date(at + 3_600_000) };
}

async function expiring(notAfter: number) {
  const cert = await pki.issue(new Date(first() - DAY), new Date(notAfter));
  // A short-lived certificate (as with a small KAKUNIN_AGENT_VALIDITY_DAYS), validated a day after it expired.
  return { facts: await certificateFacts(cert.rawData), now: new Date(notAfter + DAY) };
}

const cases: Case[] = [
  {
    name: "revoked for keyCompromise",
    certificate: () => revoked(last() + 5000),
    tooEarly: () => revoked(first() - 10_000),
    noPoe: "REVOKED_NO_POE",
  },
  {
    name: "expired",
    certificate: () => expiring(last() + 30_000),
    tooEarly: () => expiring(first() - 10_000),
    noPoe: "EXPIRED_NO_POE",
  },
];

describe.each(cases)("a certificate $name after the operation", (c) => {
  const run = async (
    t: Uint8Array[],
    tsa = both(),
    which: "certificate" | "tooEarly" = "certificate",
  ): Promise<PastSignatureResult> => {
    const { facts, now } = await c[which]();
    return validatePastSignature({ certificate: facts, evidence: evidence(t), tsa, now });
  };

  it("with the timestamped checkpoint: PASSED, decided by the earliest token (TSA, genTime, checkpoint)", async () => {
    const r = await run(tokens);
    expect(r.indication).toBe("PASSED");
    expect(r.control?.kind).toBe(c.name === "expired" ? "expiry" : "revocation");
    expect(r.tokens.map((t) => t.status)).toEqual(["accepted", "accepted"]);
    const earliest = genTimes.indexOf(first());
    expect(r.decidingPoe).toMatchObject({
      time: new Date(first()).toISOString(),
      token: earliest,
      checkpoint: { origin: "kakunin.test/log/issuer-1", size: 11 },
    });
    expect(r.decidingPoe!.tsa.name).toMatch(earliest === 0 ? /^CN=Kakunin Dev TSA/ : /^CN=OpenSSL Test TSA/);
    // Each TSA alone decides too.
    for (const t of tokens) expect((await run([t])).indication).toBe("PASSED");
  });

  it(`with the timestamps removed: INDETERMINATE ${c.noPoe}`, async () => {
    expect(await run([])).toMatchObject({ indication: "INDETERMINATE", subIndication: c.noPoe });
  });

  it("with a token from a TSA that is not pinned: INDETERMINATE (ERR_TSA_UNTRUSTED)", async () => {
    const r = await run([tokens[1]!], parseTsaBundle(devCaPem));
    expect(r).toMatchObject({
      indication: "INDETERMINATE",
      subIndication: c.noPoe,
      tokens: [{ status: "rejected", code: "ERR_TSA_UNTRUSTED" }],
    });
  });

  it("with tokens over another checkpoint: INDETERMINATE (ERR_POE_IMPRINT)", async () => {
    const r = await run(otherTokens);
    expect(r).toMatchObject({
      indication: "INDETERMINATE",
      subIndication: c.noPoe,
      tokens: [{ code: "ERR_POE_IMPRINT" }, { code: "ERR_POE_IMPRINT" }],
    });
  });

  it("with genTime after the revocation / expiry: INDETERMINATE", async () => {
    const r = await run(tokens, both(), "tooEarly");
    const code = c.name === "expired" ? "ERR_POE_AFTER_EXPIRY" : "ERR_POE_AFTER_REVOCATION";
    expect(r).toMatchObject({ indication: "INDETERMINATE", subIndication: c.noPoe, tokens: [{ code }, { code }] });
  });

  it("with a byte of a token flipped: FAILED", async () => {
    for (const [i, t] of tokens.entries()) {
      // The last byte is inside the CMS signature value of both TSAs' tokens.
      const r = await run([tokens[1 - i]!, flipped(t, t.length - 1)]);
      expect(r).toMatchObject({ indication: "FAILED", subIndication: "SIG_CRYPTO_FAILURE" });
    }
  });
});
