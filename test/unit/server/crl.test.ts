/**
 * CRL pieces (server/ca/crl.ts): reason codes, the DER INTEGER and cRLNumber extension, the PEM
 * label — and a CRL built by server/ca/crl-builder.ts (what CertificateAuthority.signCrl signs), read
 * back by @peculiar/x509, pkijs and `openssl crl`. (The signature here is a throwaway in-memory WebCrypto key;
 * the KMS-signed CRL is checked in test/integration/ca/authority.test.ts.)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as asn1js from "asn1js";
import fc from "fast-check";
import * as pkijs from "pkijs";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../server/errors.js";
import {
  OID_CRL_NUMBER,
  REVOCATION_REASONS,
  crlNumberExtension,
  crlPem,
  derInteger,
  isRevocationReason,
  reasonCode,
  type RevocationReason,
} from "../../../server/ca/crl.js";
import { buildSignedCrl, tbsCertList, type CrlEntryInput } from "../../../server/ca/crl-builder.js";
import { pemDecode } from "../../../verifier/src/formats/pem.js";
import { SIGNING_ALGORITHM } from "../../../server/ca/profiles.js";
import { splitSigned } from "../../../server/ca/signed.js";
import { x509 } from "../../../server/ca/x509.js";

const hex = (u8: Uint8Array) => Buffer.from(u8).toString("hex");

/** The non-negative INTEGER a DER encoding denotes, parsed by asn1js (an independent decoder). */
function decodeInteger(der: Uint8Array): bigint {
  const { result, offset } = asn1js.fromBER(der.slice().buffer);
  expect(offset).toBe(der.length);
  expect(result).toBeInstanceOf(asn1js.Integer);
  return (result as asn1js.Integer).toBigInt();
}

describe("revocation reasons", () => {
  it("are the nine RFC 5280 names, mapped to their CRLReason codes; unspecified is written as no reasonCode", () => {
    const codes = Object.fromEntries(REVOCATION_REASONS.map((r) => [r, reasonCode(r)]));
    expect(codes).toEqual({
      unspecified: undefined,
      keyCompromise: 1,
      cACompromise: 2,
      affiliationChanged: 3,
      superseded: 4,
      cessationOfOperation: 5,
      certificateHold: 6,
      privilegeWithdrawn: 9,
      aACompromise: 10,
    });
  });

  it("anything else is refused (422, field reason) — including removeFromCRL and other spellings", () => {
    for (const r of ["removeFromCRL", "KeyCompromise", "key_compromise", "", "1", "toString", "__proto__"]) {
      expect(isRevocationReason(r), r).toBe(false);
      let e: unknown;
      try {
        reasonCode(r as RevocationReason);
      } catch (err) {
        e = err;
      }
      expect(e, r).toBeInstanceOf(ValidationError);
      expect([(e as ValidationError).status, (e as ValidationError).field]).toEqual([422, "reason"]);
    }
    for (const v of [undefined, null, 1, {}, ["keyCompromise"]]) expect(isRevocationReason(v)).toBe(false);
  });
});

describe("derInteger", () => {
  it("encodes the edge values minimally, with a 00 octet only before a high bit", () => {
    expect(hex(derInteger(0n))).toBe("020100");
    expect(hex(derInteger(1n))).toBe("020101");
    expect(hex(derInteger(127n))).toBe("02017f");
    expect(hex(derInteger(128n))).toBe("02020080");
    expect(hex(derInteger(255n))).toBe("020200ff");
    expect(hex(derInteger(256n))).toBe("02020100");
    expect(hex(derInteger(0x7fffn))).toBe("02027fff");
    expect(hex(derInteger(0x8000n))).toBe("0203008000");
  });

  it("round-trips through an independent DER decoder, minimally, for any non-negative value up to 127 octets", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 1008n) - 1n }), (n) => {
        const der = derInteger(n);
        expect(decodeInteger(der)).toBe(n);
        expect(der[1]).toBe(der.length - 2);
        // Minimal: a leading 00 only when the next octet has its high bit set.
        if (der.length > 3) expect(der[2] === 0 ? der[3]! >= 0x80 : true).toBe(true);
      }),
    );
  });

  it("refuses negatives and lengths that need a long-form length", () => {
    expect(() => derInteger(-1n)).toThrow(/negative/);
    expect(derInteger((1n << 1015n) - 1n).length).toBe(2 + 127);
    expect(() => derInteger(1n << 1015n)).toThrow(/too long/);
  });
});

describe("crlNumberExtension", () => {
  it("is the non-critical cRLNumber (2.5.29.20) holding the number; a number and a bigint encode alike", () => {
    const e = crlNumberExtension(42);
    expect([e.type, e.critical, OID_CRL_NUMBER]).toEqual(["2.5.29.20", false, "2.5.29.20"]);
    expect(decodeInteger(new Uint8Array(e.value))).toBe(42n);
    expect(hex(new Uint8Array(crlNumberExtension(42n).value))).toBe(hex(new Uint8Array(e.value)));
  });

  it("accepts 0 … 2^159 − 1 (at most 20 octets, RFC 5280 §5.2.3)", () => {
    const max = (1n << 159n) - 1n;
    const e = crlNumberExtension(max);
    expect(decodeInteger(new Uint8Array(e.value))).toBe(max);
    expect(new Uint8Array(e.value).length).toBe(2 + 20);
    expect(decodeInteger(new Uint8Array(crlNumberExtension(0).value))).toBe(0n);
  });

  it("refuses negatives, 2^159 and beyond, fractions and unsafe integers with a 422 naming number", () => {
    for (const n of [-1, -1n, 1n << 159n, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2]) {
      let e: unknown;
      try {
        crlNumberExtension(n);
      } catch (err) {
        e = err;
      }
      expect(e, String(n)).toBeInstanceOf(ValidationError);
      expect([(e as ValidationError).status, (e as ValidationError).field]).toEqual([422, "number"]);
    }
  });
});

describe("crlPem", () => {
  it("uses the RFC 7468 label X509 CRL with 64-column base64, and decodes back to the same DER", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 500, size: "max" }), (der) => {
        const pem = crlPem(der);
        const lines = pem.trimEnd().split("\n");
        expect(lines[0]).toBe("-----BEGIN X509 CRL-----");
        expect(lines.at(-1)).toBe("-----END X509 CRL-----");
        expect(lines.slice(1, -1).every((l) => l.length <= 64 && l.length > 0)).toBe(true);
        expect(lines.slice(1, -2).every((l) => l.length === 64)).toBe(true);
        expect(hex(pemDecode(pem, "X509 CRL"))).toBe(hex(der));
        expect(() => pemDecode(pem, "CRL")).toThrow(/expected PEM CRL, got X509 CRL/);
      }),
    );
  });
});

describe("a CRL built by crl-builder.ts (what CertificateAuthority.signCrl signs)", () => {
  const thisUpdate = new Date("2026-01-01T00:00:00Z");
  const nextUpdate = new Date("2026-01-08T00:00:00Z");
  const issuer = new x509.Name("CN=Test CA");
  const extensions = [crlNumberExtension(12345678901234567890n)];
  const newKeys = async () => {
    const alg = { ...SIGNING_ALGORITHM, publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    return (await crypto.subtle.generateKey(alg, false, ["sign", "verify"])) as CryptoKeyPair;
  };

  it("carries the cRLNumber, one reasonCode per entry (none, and no entry extensions, for unspecified); openssl and pkijs read it", async () => {
    const keys = await newKeys();
    const revoked: CrlEntryInput[] = [
      { serial: "0a", revokedAt: thisUpdate, reason: "keyCompromise" },
      { serial: "7fee", revokedAt: thisUpdate, reason: "unspecified" },
      { serial: "01ff", revokedAt: thisUpdate, reason: "cessationOfOperation" },
    ];
    const der = await buildSignedCrl({ issuer, thisUpdate, nextUpdate, revoked, extensions }, crypto, keys.privateKey);

    const parsed = new x509.X509Crl(der.slice().buffer);
    expect(parsed.entries.map((e) => [e.serialNumber.toLowerCase(), e.reason])).toEqual([
      ["0a", 1],
      ["7fee", undefined],
      ["01ff", 5],
    ]);
    expect(await parsed.verify({ publicKey: keys.publicKey })).toBe(true);
    const number = parsed.getExtension(OID_CRL_NUMBER)!;
    expect(decodeInteger(new Uint8Array(number.value))).toBe(12345678901234567890n);

    // The unspecified entry is SEQUENCE { serial, revocationDate }: no crlEntryExtensions, not an empty one.
    const tbs = tbsCertList({ issuer, thisUpdate, nextUpdate, revoked, extensions });
    expect(hex(der)).toContain(hex(tbs));
    const entry = new x509.X509CrlEntry(parsed.entries[1]!.rawData);
    expect(hex(new Uint8Array(entry.rawData))).toBe("30130202 7fee 170d3236303130313030303030305a".replace(/ /g, ""));
    // pkijs (the verifier's parser) refuses SEQUENCE SIZE (0) for Extensions; it takes this CRL.
    const asn1 = asn1js.fromBER(der.slice().buffer);
    const pk = new pkijs.CertificateRevocationList({ schema: asn1.result });
    expect(pk.revokedCertificates?.map((r) => r.crlEntryExtensions?.extensions.length ?? 0)).toEqual([1, 0, 1]);

    const dir = mkdtempSync(join(tmpdir(), "kakunin-crl-unit-"));
    try {
      writeFileSync(join(dir, "crl.pem"), crlPem(der));
      const text = execFileSync("openssl", ["crl", "-in", join(dir, "crl.pem"), "-noout", "-text"], {
        encoding: "utf8",
      });
      expect(text).toMatch(/Version 2/);
      expect(text).toMatch(/X509v3 CRL Number:\s+12345678901234567890/);
      const reasons = [...text.matchAll(/Serial Number: (\w+)[\s\S]*?(?=Serial Number:|Signature Algorithm)/g)].map(
        (m) => [m[1]!.toLowerCase(), /Key Compromise|Cessation Of Operation/.exec(m[0])?.[0] ?? null],
      );
      expect(reasons).toEqual([
        ["0a", "Key Compromise"],
        ["7fee", null],
        ["01ff", "Cessation Of Operation"],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is byte for byte what X509CrlGenerator made when every entry has a reason (no change but the fix)", async () => {
    const keys = await newKeys();
    const revoked: CrlEntryInput[] = [
      { serial: "0a", revokedAt: new Date("2025-12-31T10:11:12.345Z"), reason: "keyCompromise" },
      { serial: "00ff", revokedAt: thisUpdate, reason: "superseded" },
      { serial: "7fee", revokedAt: thisUpdate, reason: "privilegeWithdrawn" },
    ];
    const withAki = [new x509.AuthorityKeyIdentifierExtension("0102030405", false), ...extensions];
    const ours = tbsCertList({ issuer, thisUpdate, nextUpdate, revoked, extensions: withAki });
    const generated = await x509.X509CrlGenerator.create({
      issuer,
      thisUpdate,
      nextUpdate,
      entries: revoked.map((r) => ({
        serialNumber: r.serial,
        revocationDate: new Date(Math.floor(r.revokedAt.getTime() / 1000) * 1000),
        reason: reasonCode(r.reason)!,
      })),
      extensions: withAki,
      signingAlgorithm: SIGNING_ALGORITHM,
      signingKey: keys.privateKey,
    });
    expect(hex(splitSigned(new Uint8Array(generated.rawData)).tbs)).toBe(hex(ours));
    // And with no entries at all, revokedCertificates is absent in both.
    const empty = tbsCertList({ issuer, thisUpdate, nextUpdate, revoked: [], extensions: withAki });
    const generatedEmpty = await x509.X509CrlGenerator.create({
      issuer,
      thisUpdate,
      nextUpdate,
      entries: [],
      extensions: withAki,
      signingAlgorithm: SIGNING_ALGORITHM,
      signingKey: keys.privateKey,
    });
    expect(hex(splitSigned(new Uint8Array(generatedEmpty.rawData)).tbs)).toBe(hex(empty));
  });
});
