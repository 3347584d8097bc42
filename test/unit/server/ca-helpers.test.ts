/**
 * The CA's small pure helpers: certificate serials (server/ca/serial.ts), PEM and byte helpers
 * (pem.ts, bytes.ts), the one @peculiar/x509 entry point (x509.ts — it loads reflect-metadata, so
 * this file imports nothing else before it), and the certificate facts authority.ts reads back.
 */
import { createHash, X509Certificate as NodeX509 } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { x509 } from "../../../server/ca/x509.js";
import { certificateInfo, fingerprintSha256 } from "../../../server/ca/authority.js";
import { bytesEqual, toArrayBuffer } from "../../../server/ca/bytes.js";
import { derInteger } from "../../../server/ca/crl.js";
import { pemDecode, pemEncode } from "../../../verifier/src/formats/pem.js";
import { SIGNING_ALGORITHM } from "../../../server/ca/profiles.js";
import { newSerial } from "../../../server/ca/serial.js";

describe("newSerial", () => {
  const serials = Array.from({ length: 2000 }, () => newSerial());

  it("is 32 lowercase hex digits of a positive INTEGER whose DER is exactly 16 octets", () => {
    for (const s of serials) {
      expect(s).toMatch(/^[0-7][0-9a-f]{31}$/);
      expect(s.slice(0, 2)).not.toBe("00");
      expect(derInteger(BigInt(`0x${s}`)).length).toBe(2 + 16);
    }
  });

  it("does not repeat, and every digit position varies (CSPRNG, not a counter or a clock)", () => {
    expect(new Set(serials).size).toBe(serials.length);
    for (let i = 0; i < 32; i++) {
      const digits = new Set(serials.map((s) => s[i]));
      expect(digits.size, `position ${i}`).toBe(i === 0 ? 8 : 16);
    }
  });
});

describe("PEM", () => {
  it("encodes RFC 7468 blocks (64 columns, trailing newline) that decode to the same bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300, size: "max" }),
        fc.constantFrom("CERTIFICATE", "X509 CRL", "PUBLIC KEY"),
        (der, label) => {
          const pem = pemEncode(der, label);
          expect(pem.startsWith(`-----BEGIN ${label}-----\n`)).toBe(true);
          expect(pem.endsWith(`-----END ${label}-----\n`)).toBe(true);
          expect(pem.split("\n").every((l) => l.length <= 64 || l.startsWith("-----"))).toBe(true);
          expect(Buffer.from(pemDecode(pem, label)).equals(Buffer.from(der))).toBe(true);
        },
      ),
    );
  });

  it("decodes the first block only when it carries the asked label (formats' strict rule)", () => {
    const a = pemEncode(new Uint8Array([1, 2, 3]), "CERTIFICATE");
    const b = pemEncode(new Uint8Array([4, 5, 6]), "X509 CRL");
    expect([...pemDecode(`${b}${a}`, "X509 CRL")]).toEqual([4, 5, 6]);
    expect([...pemDecode(`junk\n${a}${b}`, "CERTIFICATE")]).toEqual([1, 2, 3]);
    expect(() => pemDecode(`${a}${b}`, "X509 CRL")).toThrow(/expected PEM X509 CRL, got CERTIFICATE/);
    expect(() => pemDecode(a, "X509 CRL")).toThrow(/expected PEM X509 CRL/);
    expect(() => pemDecode("", "CERTIFICATE")).toThrow(/no PEM block/);
  });

  it("encodes a view of a larger buffer by its own bytes only", () => {
    const big = new Uint8Array([9, 9, 1, 2, 3, 9]);
    expect([...pemDecode(pemEncode(big.subarray(2, 5), "CERTIFICATE"), "CERTIFICATE")]).toEqual([1, 2, 3]);
  });
});

describe("bytes", () => {
  it("toArrayBuffer copies exactly the view's bytes into a fresh buffer", () => {
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5]);
    const view = backing.subarray(1, 4);
    const ab = toArrayBuffer(view);
    expect([ab.byteLength, ...new Uint8Array(ab)]).toEqual([3, 1, 2, 3]);
    backing[2] = 99;
    expect(new Uint8Array(ab)[1]).toBe(2);
  });

  it("bytesEqual compares contents of views, not their buffers", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        const padded = new Uint8Array(a.length + 2);
        padded.set(a, 1);
        expect(bytesEqual(a, padded.subarray(1, 1 + a.length))).toBe(true);
        expect(bytesEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
      }),
    );
  });
});

describe("certificate facts read back by the CA", () => {
  it("certificateInfo gives the lowercase serial, validity, subject and SPKI; fingerprintSha256 is what openssl shows", async () => {
    const alg = { ...SIGNING_ALGORITHM, publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "7F00AB",
      name: "CN=Fixture, O=Kakunin",
      notBefore: new Date("2026-01-01T00:00:00Z"),
      notAfter: new Date("2027-01-01T00:00:00Z"),
      keys,
      signingAlgorithm: SIGNING_ALGORITHM,
    });
    const der = new Uint8Array(cert.rawData);
    const info = certificateInfo(der);
    expect(info.serial).toBe("7f00ab");
    expect([info.notBefore.toISOString(), info.notAfter.toISOString()]).toEqual([
      "2026-01-01T00:00:00.000Z",
      "2027-01-01T00:00:00.000Z",
    ]);
    expect(info.subject).toBe("CN=Fixture, O=Kakunin");
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
    expect(bytesEqual(info.spki, spki)).toBe(true);

    const fp = fingerprintSha256(der);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).toBe(new NodeX509(Buffer.from(der)).fingerprint256.replace(/:/g, "").toLowerCase());
    expect(fingerprintSha256(new Uint8Array())).toBe(createHash("sha256").update("").digest("hex"));
  });
});
