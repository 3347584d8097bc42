/** The client's TimeStampReq and the dev TSA's request parser: encodings and refusals (pure). */
import { createHash } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { describe, expect, it } from "vitest";
import { FAIL, parseTimestampRequest, RequestRefused } from "../../../scripts/tsa/request.js";
import {
  buildTimestampRequest,
  extractTimestampToken,
  parseTsaTrustList,
  randomNonce,
  TimestampRejectedError,
} from "../../../verifier/src/timestamp/index.js";
import { failInfoNames } from "../../../verifier/src/timestamp/fail-info.js";
import { testTsa } from "./fixtures.js";

const imprint = new Uint8Array(createHash("sha256").update("x").digest());

function req(
  hashOid: string,
  hashed: Uint8Array,
  extra: asn1js.AsnType[] = [],
  params?: asn1js.AsnType,
  version = 1,
): Uint8Array {
  const alg = new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: hashOid }), ...(params ? [params] : [])],
  });
  return new Uint8Array(
    new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: version }),
        new asn1js.Sequence({ value: [alg, new asn1js.OctetString({ valueHex: hashed })] }),
        ...extra,
      ],
    }).toBER(),
  );
}

function refusal(der: Uint8Array): number {
  try {
    parseTimestampRequest(der, "1.2.3");
  } catch (err) {
    if (err instanceof RequestRefused) return err.failBit;
    throw err;
  }
  return -1;
}

describe("buildTimestampRequest", () => {
  it("encodes version 1, SHA-256 imprint, the nonce and certReq TRUE", () => {
    const r = buildTimestampRequest(imprint, { nonce: new Uint8Array([0x12, 0x34]) });
    const parsed = new pkijs.TimeStampReq({ schema: asn1js.fromBER(r.der.slice().buffer).result });
    expect(parsed.version).toBe(1);
    expect(parsed.messageImprint.hashAlgorithm.algorithmId).toBe("2.16.840.1.101.3.4.2.1");
    expect(Buffer.from(parsed.messageImprint.hashedMessage.valueBlock.valueHexView)).toEqual(Buffer.from(imprint));
    expect(parsed.nonce!.valueBlock.valueDec).toBe(0x1234);
    expect(parsed.certReq).toBe(true);
    // certReq false is omitted (DER DEFAULT FALSE).
    expect(
      new pkijs.TimeStampReq({
        schema: asn1js.fromBER(buildTimestampRequest(imprint, { certReq: false }).der.slice().buffer).result,
      }).certReq,
    ).toBeUndefined();
  });

  it("random nonces are positive, minimal and differ", () => {
    const a = randomNonce();
    expect(a[0]! & 0x80).toBe(0);
    expect(a[0]).not.toBe(0);
    expect(Buffer.from(a)).not.toEqual(Buffer.from(randomNonce()));
  });

  it("refuses an imprint that is not 32 bytes and a negative or non-minimal nonce", () => {
    expect(() => buildTimestampRequest(new Uint8Array(20))).toThrow(/32-byte/);
    expect(() => buildTimestampRequest(imprint, { nonce: new Uint8Array([0x80]) })).toThrow(/nonce/);
    expect(() => buildTimestampRequest(imprint, { nonce: new Uint8Array([0x00, 0x01]) })).toThrow(/nonce/);
  });
});

describe("dev TSA request parser", () => {
  it("accepts SHA-256/384/512 with absent or NULL parameters", () => {
    expect(refusal(req("2.16.840.1.101.3.4.2.1", imprint))).toBe(-1);
    expect(refusal(req("2.16.840.1.101.3.4.2.2", new Uint8Array(48), [], new asn1js.Null()))).toBe(-1);
    expect(refusal(req("2.16.840.1.101.3.4.2.3", new Uint8Array(64)))).toBe(-1);
  });

  it("badAlg: SHA-1, MD5, unknown OIDs, and non-NULL parameters", () => {
    expect(refusal(req("1.3.14.3.2.26", new Uint8Array(20)))).toBe(FAIL.badAlg);
    expect(refusal(req("1.2.840.113549.2.5", new Uint8Array(16)))).toBe(FAIL.badAlg);
    expect(refusal(req("1.2.3.4", new Uint8Array(32)))).toBe(FAIL.badAlg);
    expect(refusal(req("2.16.840.1.101.3.4.2.1", imprint, [], new asn1js.Integer({ value: 1 })))).toBe(FAIL.badAlg);
  });

  it("badDataFormat: wrong digest length, version 2, trailing bytes, not DER, negative nonce", () => {
    expect(refusal(req("2.16.840.1.101.3.4.2.1", new Uint8Array(31)))).toBe(FAIL.badDataFormat);
    expect(refusal(req("2.16.840.1.101.3.4.2.1", imprint, [], undefined, 2))).toBe(FAIL.badDataFormat);
    expect(refusal(new Uint8Array([...req("2.16.840.1.101.3.4.2.1", imprint), 0]))).toBe(FAIL.badDataFormat);
    expect(refusal(new Uint8Array([0xff, 0xff]))).toBe(FAIL.badDataFormat);
    expect(refusal(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toBe(FAIL.badDataFormat);
    expect(
      refusal(req("2.16.840.1.101.3.4.2.1", imprint, [new asn1js.Integer({ valueHex: new Uint8Array([0x80, 1]) })])),
    ).toBe(FAIL.badDataFormat);
  });

  it("unacceptedPolicy and unacceptedExtension", () => {
    expect(refusal(req("2.16.840.1.101.3.4.2.1", imprint, [new asn1js.ObjectIdentifier({ value: "1.2.4" })]))).toBe(
      FAIL.unacceptedPolicy,
    );
    expect(refusal(req("2.16.840.1.101.3.4.2.1", imprint, [new asn1js.ObjectIdentifier({ value: "1.2.3" })]))).toBe(-1);
    const ext = new pkijs.Extension({ extnID: "1.2.5", extnValue: new asn1js.Null().toBER() });
    const exts = new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [ext.toSchema()] });
    expect(refusal(req("2.16.840.1.101.3.4.2.1", imprint, [exts]))).toBe(FAIL.unacceptedExtension);
  });
});

describe("dev TSA responder", () => {
  it("a refusal is PKIStatus rejection with exactly the failInfo bit named, read back by the client", async () => {
    const t = await testTsa();
    const err = (() => {
      try {
        return extractTimestampToken(new Uint8Array(0));
      } catch (e) {
        return e;
      }
    })();
    expect((err as { code: string }).code).toBe("ERR_TSA_MALFORMED");
    const reply = await t.responder.respond(req("1.3.14.3.2.26", new Uint8Array(20)));
    expect(() => extractTimestampToken(reply)).toThrow(TimestampRejectedError);
    try {
      extractTimestampToken(reply);
    } catch (e) {
      expect((e as TimestampRejectedError).status).toBe(2);
      expect((e as TimestampRejectedError).failInfo).toEqual(["badAlg"]);
    }
    // DER of failInfo badAlg: BIT STRING, 7 unused bits, 0x80.
    expect(Buffer.from(reply).toString("hex")).toContain("03020780");
  });

  it("honours certReq: the certificate is in the token only when asked", async () => {
    const t = await testTsa();
    const certHex = Buffer.from(t.tsa.rawData).toString("hex");
    const withCert = await t.responder.respond(buildTimestampRequest(imprint).der);
    const without = await t.responder.respond(buildTimestampRequest(imprint, { certReq: false }).der);
    expect(Buffer.from(withCert).toString("hex")).toContain(certHex);
    expect(Buffer.from(without).toString("hex")).not.toContain(certHex);
  });

  it("a signing failure is rejection/systemFailure and its reason goes to the hook, not the reply", async () => {
    const { Responder } = await import("../../../scripts/tsa/responder.js");
    const t = await testTsa();
    const seen: unknown[] = [];
    const r = new Responder({
      certificate: new Uint8Array(t.tsa.rawData),
      policy: "1.2.3",
      now: () => new Date(),
      accuracySeconds: 1,
      signDigest: async () => Promise.reject(new Error("secret-ish detail")),
      onSystemFailure: (e) => seen.push(e),
    });
    const reply = await r.respond(buildTimestampRequest(imprint).der);
    expect(Buffer.from(reply).toString("latin1")).not.toContain("secret-ish");
    expect(() => extractTimestampToken(reply)).toThrow(/systemFailure/);
    expect(seen).toHaveLength(1);
  });
});

describe("failInfo names and the trust list", () => {
  it("names PKIFailureInfo bits by number (RFC 3161 §2.4.2)", () => {
    expect(failInfoNames(new Uint8Array([0x80]))).toEqual(["badAlg"]);
    expect(failInfoNames(new Uint8Array([0x04]))).toEqual(["badDataFormat"]);
    expect(failInfoNames(new Uint8Array([0x00, 0x00, 0x00, 0x40]))).toEqual(["systemFailure"]);
    expect(failInfoNames(new Uint8Array([0x20, 0x02]))).toEqual(["badRequest", "timeNotAvailable"]);
  });

  it("a trust list holds only CERTIFICATE blocks", async () => {
    const t = await testTsa();
    expect(parseTsaTrustList(t.ca.toString("pem") + "\n" + t.tsa.toString("pem"))).toHaveLength(2);
    expect(() => parseTsaTrustList("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")).toThrow(
      /expected CERTIFICATE/,
    );
    expect(() => parseTsaTrustList("nothing here")).toThrow(expect.objectContaining({ code: "ERR_TSA_MALFORMED" }));
  });
});
