/**
 * Flipping any byte of a real token (dev TSA, `openssl ts -reply`) never yields PASSED, except in
 * the only bytes no check depends on. Which ones, precisely (found by flipping every byte, then
 * pinned here so that a new leniency fails this test):
 *
 *  1. A certificate in SignedData.certificates that is not the signer's: the path to the pinned
 *     list uses the pinned copy first, so a copy carried in the token (openssl includes its CA) is
 *     never read. A flip that makes it unparsable still FAILs the token.
 *  2. The issuer Name in the SignerInfo's sid, in ways RFC 5280 §7.1 name matching ignores: the
 *     case of an ASCII letter, and one character-string type for another. The sid only finds the
 *     certificate; the signed ESSCertIDv2 (hash and issuerSerial) is what binds it.
 *
 * Everything else — lengths, tags, versions, algorithm identifiers and parameters, eContent, the
 * signed attributes, the signature, the signer's certificate, the sid's serial — gives FAILED or
 * INDETERMINATE.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestCheckpointTimestamps } from "../../../server/log/timestamping/request-timestamps.js";
import {
  parseTsaBundle,
  readTimestampToken,
  validatePastSignature,
  type TsaPolicy,
} from "../../../verifier/src/timestamp/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { createOpensslTsa, type OpensslTsa } from "../../helpers/openssl-tsa.js";
import { startDevTsa, type DevTsa } from "../../helpers/tsa.js";
import { type DerNode, contentOf, inNode, tokenLayout } from "../../helpers/tsa-der.js";
import { checkpointCovering, type CoveredEntry } from "../../helpers/tsa-evidence.js";
import { serveTsa, type HttpTsa } from "../../helpers/tsa-http.js";

let kms: LocalKms;
let dev: DevTsa;
let ossl: OpensslTsa;
let osslHttp: HttpTsa;
let policy: TsaPolicy;
let covered: CoveredEntry;
const tokens: { name: string; der: Uint8Array; signer: Uint8Array; genTime: number }[] = [];

/** X.680 character string types (UTF8String 12, NumericString 18 … BMPString 30). */
const STRING_TAGS = new Set([0x0c, 0x12, 0x13, 0x14, 0x15, 0x16, 0x19, 0x1a, 0x1b, 0x1c, 0x1e]);
const isLetter = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

/** Why a flip at `at` (XOR `mask`) may be ignored, or undefined when it must not pass. */
function ignorable(token: Uint8Array, signer: Uint8Array, at: number, mask: number): string | undefined {
  const layout = tokenLayout(token);
  const cert = layout.certificates?.children.find((c) => inNode(c, at));
  if (cert && !same(token.subarray(cert.start, cert.end), signer)) return "a certificate other than the signer's";
  if (inNode(layout.sid, at)) {
    const name = layout.sid.children[0]!;
    const values: DerNode[] = name.children.flatMap((rdn) => rdn.children.map((atv) => atv.children[1]!));
    const value = values.find((v) => inNode(v, at));
    if (value && at === value.start && STRING_TAGS.has(token[at]!) && STRING_TAGS.has(token[at]! ^ mask))
      return "the string type of a sid issuer name attribute";
    if (value && at >= value.contentStart && mask === 0x20 && isLetter(token[at]!))
      return "the case of a letter in the sid issuer name";
  }
  return undefined;
}

async function judge(t: (typeof tokens)[number], der: Uint8Array) {
  return validatePastSignature({
    certificate: {
      serial: "0101",
      notBefore: t.genTime - 86_400_000,
      notAfter: t.genTime + 30 * 86_400_000,
      revocation: { date: t.genTime + 60_000, reason: "keyCompromise" },
    },
    evidence: [{ ...covered, tokens: [der] }],
    tsa: policy,
    now: new Date(t.genTime + 3_600_000),
  });
}

beforeAll(async () => {
  kms = await startLocalKms();
  [dev, ossl] = await Promise.all([startDevTsa(kms.endpoint), createOpensslTsa()]);
  osslHttp = await serveTsa((q) => ossl.reply(q));
  const devCa = await (await fetch(`${dev.url}/v1/public/tsa-ca.pem`)).text();
  const devTsa = await (await fetch(`${dev.url}/v1/public/tsa.pem`)).text();
  policy = parseTsaBundle(devCa + ossl.caPem);
  covered = await checkpointCovering(2, 5);
  const outcomes = await requestCheckpointTimestamps(covered.checkpointText, {
    urls: [dev.url + "/", osslHttp.url],
    trusted: policy.trusted,
    timeoutMs: 5000,
    attempts: 2,
  });
  const signers = [parseTsaBundle(devTsa).trusted[0]!, parseTsaBundle(ossl.tsaPem).trusted[0]!];
  outcomes.forEach((o, i) => {
    if (o.kind !== "token") throw new Error(`${o.url}: ${o.kind}`);
    tokens.push({
      name: i === 0 ? "dev TSA" : "openssl",
      der: o.token,
      signer: signers[i]!,
      genTime: o.genTime.getTime(),
    });
  });
});

afterAll(async () => {
  await osslHttp?.close();
  await dev?.stop();
  await kms?.stop();
});

describe("a flipped byte of a real token", () => {
  it("the untouched tokens pass; the openssl token carries its CA beside the signer, the dev TSA's only the signer", async () => {
    for (const t of tokens) expect((await judge(t, t.der)).indication, t.name).toBe("PASSED");
    expect(readTimestampToken(tokens[0]!.der).certificates.length).toBe(1);
    expect(readTimestampToken(tokens[1]!.der).certificates.length).toBe(2);
  });

  it("the ignorable bytes are really ignored: a letter's case in the sid, the CA copy in the token", async () => {
    const [devToken, osslToken] = tokens as [(typeof tokens)[number], (typeof tokens)[number]];
    const sid = tokenLayout(devToken.der).sid;
    const value = sid.children[0]!.children.at(-1)!.children[0]!.children[1]!;
    const letter = [...contentOf(devToken.der, value)].findIndex(isLetter) + value.contentStart;
    const caseFlipped = new Uint8Array(devToken.der);
    caseFlipped[letter]! ^= 0x20;
    expect((await judge(devToken, caseFlipped)).indication).toBe("PASSED");
    const ca = tokenLayout(osslToken.der).certificates!.children.find(
      (c) => !same(osslToken.der.subarray(c.start, c.end), osslToken.signer),
    )!;
    const caFlipped = new Uint8Array(osslToken.der);
    caFlipped[ca.end - 1]! ^= 0x01; // inside the CA copy's own signature
    expect((await judge(osslToken, caFlipped)).indication).toBe("PASSED");
  });

  it("every single-bit flip (bit 0) of the dev TSA token: never PASSED outside the ignorable bytes", async () => {
    const t = tokens[0]!;
    const passedAt: number[] = [];
    for (let at = 0; at < t.der.length; at++) {
      const der = new Uint8Array(t.der);
      der[at]! ^= 0x01;
      if ((await judge(t, der)).indication === "PASSED") {
        expect(ignorable(t.der, t.signer, at, 0x01), `offset ${at}`).toBeDefined();
        passedAt.push(at);
      }
    }
    // Only the string-type flip PrintableString → NumericString (0x13 → 0x12) can pass with bit 0, in the sid.
    expect(passedAt.every((at) => inNode(tokenLayout(t.der).sid, at))).toBe(true);
  });

  it("fast-check: any byte, any XOR mask, either token: PASSED only where ignorable", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 255 }),
        async (which, where, mask) => {
          const t = tokens[which]!;
          const at = Math.floor(where * t.der.length);
          const der = new Uint8Array(t.der);
          der[at]! ^= mask;
          const r = await judge(t, der);
          return r.indication !== "PASSED" || ignorable(t.der, t.signer, at, mask) !== undefined;
        },
      ),
      { numRuns: 2000 },
    );
  });
});
