/**
 * Attacker-controlled tokens against the client: each trust decision (imprint, nonce, pinned TSA,
 * critical EKU, ESSCertID binding, CMS signature over the signed attributes) has a case that must fail.
 */
import { createHash } from "node:crypto";
import * as pkijs from "pkijs";
import { describe, expect, it } from "vitest";
import {
  buildTimestampRequest,
  extractTimestampToken,
  TimestampMalformedError,
  TimestampMismatchError,
  TimestampUntrustedError,
  verifyTimestampResponse,
  verifyTimestampToken,
} from "../../../verifier/src/timestamp/index.js";
import { GEN_TIME, issue, rsaKey, testTsa } from "./fixtures.js";

const sha256 = (b: Uint8Array | string) => new Uint8Array(createHash("sha256").update(b).digest());
const imprint = sha256("checkpoint");

function replaceOnce(haystack: Uint8Array, needle: Uint8Array, replacement: Uint8Array): Uint8Array<ArrayBuffer> {
  expect(replacement.length).toBe(needle.length);
  const hex = Buffer.from(haystack).toString("hex");
  const at = hex.indexOf(Buffer.from(needle).toString("hex"));
  expect(at % 2).toBe(0);
  expect(hex.indexOf(Buffer.from(needle).toString("hex"), at + 1)).toBe(-1);
  const out = new Uint8Array(haystack);
  out.set(replacement, at / 2);
  return out;
}

function tstInfoOf(token: Uint8Array): Uint8Array {
  const ci = pkijs.ContentInfo.fromBER(new Uint8Array(token));
  const sd = new pkijs.SignedData({ schema: ci.content });
  return new Uint8Array(sd.encapContentInfo.eContent!.valueBlock.valueHexView);
}

describe("timestamp client: honest tokens", () => {
  it("accepts a token from a TSA under the pinned CA; genTime comes from the injected clock (whole seconds)", async () => {
    const t = await testTsa();
    const req = buildTimestampRequest(imprint);
    const res = await verifyTimestampResponse(await t.responder.respond(req.der), {
      imprint,
      nonce: req.nonce,
      trusted: [new Uint8Array(t.ca.rawData)],
    });
    expect(res.genTime.toISOString()).toBe("2026-06-01T12:00:00.000Z");
    expect(res.policy).toBe("1.2.3.4.5");
    expect(Buffer.from(res.signer)).toEqual(Buffer.from(t.tsa.rawData));
  });
});

describe("timestamp client: attacks", () => {
  it("wrong imprint and wrong nonce are ERR_TSA_MISMATCH", async () => {
    const t = await testTsa();
    const req = buildTimestampRequest(imprint);
    const reply = await t.responder.respond(req.der);
    const trusted = [new Uint8Array(t.ca.rawData)];
    await expect(
      verifyTimestampResponse(reply, { imprint: sha256("other"), nonce: req.nonce, trusted }),
    ).rejects.toMatchObject({ code: "ERR_TSA_MISMATCH", field: "messageImprint" });
    const other = new Uint8Array(req.nonce);
    other[other.length - 1]! ^= 1;
    await expect(verifyTimestampResponse(reply, { imprint, nonce: other, trusted })).rejects.toMatchObject({
      code: "ERR_TSA_MISMATCH",
      field: "nonce",
    });
    // A reply without a nonce when one was sent.
    const noNonce = await t.responder.respond(buildTimestampRequest(imprint, { nonce: new Uint8Array([0x01]) }).der);
    await expect(verifyTimestampResponse(noNonce, { imprint, nonce: req.nonce, trusted })).rejects.toBeInstanceOf(
      TimestampMismatchError,
    );
  });

  it("a token from a TSA that is not pinned is ERR_TSA_UNTRUSTED, even when its own CA travels in the token", async () => {
    const honest = await testTsa();
    const rogue = await testTsa();
    const req = buildTimestampRequest(imprint);
    const reply = await rogue.responder.respond(req.der);
    await expect(
      verifyTimestampResponse(reply, { imprint, nonce: req.nonce, trusted: [new Uint8Array(honest.ca.rawData)] }),
    ).rejects.toBeInstanceOf(TimestampUntrustedError);
    // Both CAs are named "CN=Unit TSA CA": the name matches the pin, the signature does not.
    expect(rogue.ca.subject).toBe(honest.ca.subject);
    await expect(
      verifyTimestampResponse(reply, { imprint, nonce: req.nonce, trusted: [new Uint8Array(honest.ca.rawData)] }),
    ).rejects.toThrow(/does not chain/);
  });

  it.each([
    ["a non-critical EKU", { ekuCritical: false }, /not critical/],
    ["no EKU", { ekus: null }, /0 extendedKeyUsage/],
    [
      "EKU with serverAuth beside timeStamping",
      { ekus: ["1.3.6.1.5.5.7.3.8", "1.3.6.1.5.5.7.3.1"] },
      /timeStamping only/,
    ],
    ["EKU codeSigning only", { ekus: ["1.3.6.1.5.5.7.3.3"] }, /timeStamping only/],
  ])("a TSA certificate with %s is ERR_TSA_UNTRUSTED", async (_, opts, message) => {
    const t = await testTsa(opts);
    const req = buildTimestampRequest(imprint);
    await expect(
      verifyTimestampResponse(await t.responder.respond(req.der), {
        imprint,
        nonce: req.nonce,
        trusted: [new Uint8Array(t.ca.rawData)],
      }),
    ).rejects.toThrow(message);
  });

  it("genTime outside the TSA certificate's validity is ERR_TSA_UNTRUSTED", async () => {
    const t = await testTsa({}, () => new Date("2028-01-01T00:00:00Z"));
    const req = buildTimestampRequest(imprint);
    await expect(
      verifyTimestampResponse(await t.responder.respond(req.der), {
        imprint,
        nonce: req.nonce,
        trusted: [new Uint8Array(t.ca.rawData)],
      }),
    ).rejects.toThrow(/not valid at genTime/);
  });

  it("an issuer that is not a CA cannot vouch for a TSA", async () => {
    const [leafKey, tsaKey] = [await rsaKey(), await rsaKey()];
    const notCa = await issue("CN=Not a CA", leafKey, { name: "CN=Not a CA", key: leafKey });
    const tsa = await issue("CN=Sub TSA", tsaKey, { name: "CN=Not a CA", key: leafKey });
    const { Responder } = await import("../../../scripts/tsa/responder.js");
    const { signDigestWith } = await import("./fixtures.js");
    const responder = new Responder({
      certificate: new Uint8Array(tsa.rawData),
      policy: "1.2.3",
      signDigest: signDigestWith(tsaKey),
      now: () => GEN_TIME,
      accuracySeconds: 1,
    });
    const req = buildTimestampRequest(imprint);
    await expect(
      verifyTimestampResponse(await responder.respond(req.der), {
        imprint,
        nonce: req.nonce,
        trusted: [new Uint8Array(notCa.rawData)],
      }),
    ).rejects.toThrow(/not a CA/);
  });

  it("backdating genTime with a recomputed messageDigest breaks the CMS signature over the signed attributes", async () => {
    const t = await testTsa();
    const req = buildTimestampRequest(imprint);
    const token = extractTimestampToken(await t.responder.respond(req.der));
    const trusted = [new Uint8Array(t.ca.rawData)];
    await expect(verifyTimestampToken(token, { imprint, nonce: req.nonce, trusted })).resolves.toBeTruthy();
    const tst = tstInfoOf(token);
    const backdated = replaceOnce(tst, Buffer.from("20260601120000Z"), Buffer.from("20260101120000Z"));
    let forged = replaceOnce(token, tst, backdated);
    forged = replaceOnce(forged, sha256(tst), sha256(backdated));
    await expect(verifyTimestampToken(forged, { imprint, nonce: req.nonce, trusted })).rejects.toMatchObject({
      code: "ERR_TSA_SIGNATURE",
      field: "signature",
    });
    // Without recomputing the digest, the messageDigest attribute catches it.
    await expect(
      verifyTimestampToken(replaceOnce(token, tst, backdated), { imprint, nonce: req.nonce, trusted }),
    ).rejects.toMatchObject({ field: "messageDigest" });
  });

  it("a flipped bit in the ESS certHash or in the signature value is ERR_TSA_SIGNATURE", async () => {
    const t = await testTsa();
    const req = buildTimestampRequest(imprint);
    const token = extractTimestampToken(await t.responder.respond(req.der));
    const trusted = [new Uint8Array(t.ca.rawData)];
    const certHash = sha256(new Uint8Array(t.tsa.rawData));
    const flipped = new Uint8Array(certHash);
    flipped[0]! ^= 0x01;
    await expect(
      verifyTimestampToken(replaceOnce(token, certHash, flipped), { imprint, nonce: req.nonce, trusted }),
    ).rejects.toMatchObject({ code: "ERR_TSA_SIGNATURE", field: "signingCertificate" });
    // No unsigned attributes: the token ends with the signature value.
    const badSig = new Uint8Array(token);
    badSig[badSig.length - 1]! ^= 0x01;
    await expect(verifyTimestampToken(badSig, { imprint, nonce: req.nonce, trusted })).rejects.toMatchObject({
      code: "ERR_TSA_SIGNATURE",
      field: "signature",
    });
  });

  it("swapping the signer certificate for another with the same key, issuer and serial fails the ESSCertIDv2 binding", async () => {
    const t = await testTsa({ serial: "0a0b0c0d" });
    const twin = await issue(
      "CN=Unit TSA",
      t.tsaKey,
      { name: "CN=Unit TSA CA", key: t.caKey },
      { serial: "0a0b0c0d", notAfter: new Date("2026-12-01T00:00:00Z") },
    );
    expect(twin.rawData.byteLength).toBe(t.tsa.rawData.byteLength);
    const req = buildTimestampRequest(imprint);
    const token = extractTimestampToken(await t.responder.respond(req.der));
    const swapped = replaceOnce(token, new Uint8Array(t.tsa.rawData), new Uint8Array(twin.rawData));
    await expect(
      verifyTimestampToken(swapped, { imprint, nonce: req.nonce, trusted: [new Uint8Array(t.ca.rawData)] }),
    ).rejects.toMatchObject({ code: "ERR_TSA_SIGNATURE", field: "signingCertificate" });
  });

  it("trailing bytes after the reply, and non-DER garbage, are ERR_TSA_MALFORMED", async () => {
    const t = await testTsa();
    const req = buildTimestampRequest(imprint);
    const reply = await t.responder.respond(req.der);
    const trusted = [new Uint8Array(t.ca.rawData)];
    await expect(verifyTimestampResponse(new Uint8Array([...reply, 0]), { imprint, trusted })).rejects.toBeInstanceOf(
      TimestampMalformedError,
    );
    await expect(verifyTimestampToken(new Uint8Array([0x30, 0x00]), { imprint, trusted })).rejects.toBeInstanceOf(
      TimestampMalformedError,
    );
  });
});
