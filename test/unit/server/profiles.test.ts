/**
 * Certificate profiles (server/ca/profiles.ts, docs/ARCHITECTURE.md#keys-and-certificates): the
 * pure builders of names, extensions and validity windows that every issued certificate uses.
 */
import { createHash, generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../server/errors.js";
import {
  CA_SUBJECT,
  DAY_MS,
  OID_DOCUMENT_SIGNING,
  agentSpiffeId,
  assertAgentId,
  assertIssuerName,
  assertRsaSpki,
  assertTrustDomain,
  caExtensions,
  logSpiffeId,
  signerExtensions,
  subjectName,
  truncateToSecond,
  validityWindow,
} from "../../../server/ca/profiles.js";
import { x509 } from "../../../server/ca/x509.js";

const rsaSpki = (bits: number) =>
  new Uint8Array(generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ format: "der", type: "spki" }));
const RSA_2048 = rsaSpki(2048);

/** The ValidationError `fn` throws (anything else, or no throw, fails the test). */
function validationError(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error("expected a ValidationError");
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value (without the unused-bits octet). */
function spkiKeyId(spki: Uint8Array): string {
  // SPKI = SEQUENCE { AlgorithmIdentifier, BIT STRING }: the BIT STRING is the last TLV.
  const readLen = (p: number): [number, number] => {
    const b = spki[p]!;
    if (b < 0x80) return [b, p + 1];
    let n = 0;
    for (let i = 0; i < (b & 0x7f); i++) n = n * 256 + spki[p + 1 + i]!;
    return [n, p + 1 + (b & 0x7f)];
  };
  let [, p] = readLen(1); // inside the outer SEQUENCE
  const [algLen, algStart] = readLen(p + 1);
  p = algStart + algLen;
  expect(spki[p]).toBe(0x03);
  const [bitsLen, bitsStart] = readLen(p + 1);
  return createHash("sha1")
    .update(spki.subarray(bitsStart + 1, bitsStart + bitsLen))
    .digest("hex");
}

describe("assertAgentId", () => {
  it("accepts 1–64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit", () => {
    for (const id of ["a", "agt_0123456789abcdef", "A.b-c_d", "9", "x".repeat(64)])
      expect(() => assertAgentId(id), id).not.toThrow();
  });

  it("refuses anything else with a 422 naming agentId", () => {
    for (const id of ["", "x".repeat(65), "-a", ".a", "_a", "a b", "a/b", "a,CN=x", "é", "a\n", "agt\u0000"]) {
      const e = validationError(() => assertAgentId(id));
      expect([e.status, e.code, e.field], JSON.stringify(id)).toEqual([422, "ERR_VALIDATION", "agentId"]);
    }
    expect(() => assertAgentId(42 as unknown as string)).toThrow(ValidationError);
  });

  it("an accepted id is one path segment of its SPIFFE URI, unchanged", () => {
    const idChar = fc.constantFrom(..."ABCXYZabcxyz0189._-");
    const id = fc
      .tuple(fc.constantFrom(..."aZ09"), fc.array(idChar, { maxLength: 63, size: "max" }))
      .map(([h, t]) => h + t.join(""));
    fc.assert(
      fc.property(id, (agentId) => {
        assertAgentId(agentId);
        const uri = new URL(agentSpiffeId("kakunin.local", agentId));
        expect([uri.protocol, uri.host, uri.pathname]).toEqual(["spiffe:", "kakunin.local", `/agent/${agentId}`]);
      }),
    );
  });
});

describe("assertIssuerName", () => {
  it("accepts 1–64 printable code points, counted as code points", () => {
    for (const n of ["Acme", "Acme, Inc.", "CN=not parsed", "株式会社", "😀".repeat(64), " padded "])
      expect(() => assertIssuerName(n), n).not.toThrow();
  });

  it("refuses blank, over-long and control-character names with a 422 naming issuerName", () => {
    for (const n of ["", "   ", "x".repeat(65), "😀".repeat(65), "a\u0000b", "a\nb", "a\u007fb", "a\u001bb"]) {
      const e = validationError(() => assertIssuerName(n));
      expect([e.status, e.field], JSON.stringify(n)).toEqual([422, "issuerName"]);
    }
  });
});

describe("assertTrustDomain and SPIFFE IDs", () => {
  it("accepts lowercase DNS-like trust domains and refuses the rest", () => {
    for (const td of ["kakunin.local", "a", "example.eu", "a-b.c_d"])
      expect(() => assertTrustDomain(td), td).not.toThrow();
    for (const td of ["", "Kakunin.local", "-a", "a-", "a.", "a/b", "a b", "a:8080", "x".repeat(256)])
      expect(() => assertTrustDomain(td), td).toThrow(/trust domain/);
  });

  it("builds the agent and log URIs of the profile", () => {
    expect(agentSpiffeId("kakunin.local", "agt_1")).toBe("spiffe://kakunin.local/agent/agt_1");
    expect(logSpiffeId("example.eu")).toBe("spiffe://example.eu/log");
  });
});

describe("subjectName", () => {
  it("is CN then O as UTF8Strings, taken as values: commas, plus and equals signs are not parsed", () => {
    const name = subjectName("agt_1", "Evil, Inc. + CN=admin");
    const der = new Uint8Array(name.toArrayBuffer());
    const parsed = new x509.Name(der.slice().buffer);
    expect(parsed.getField("CN")).toEqual(["agt_1"]);
    expect(parsed.getField("O")).toEqual(["Evil, Inc. + CN=admin"]);
    expect(parsed.toJSON().map((rdn) => Object.keys(rdn))).toEqual([["CN"], ["O"]]);
    // UTF8String (tag 12) for both values, never PrintableString (19).
    expect(Buffer.from(der).includes(Buffer.from([0x0c, 5, ...Buffer.from("agt_1")]))).toBe(true);
    expect(Buffer.from(der).includes(0x13)).toBe(false);
  });

  it("keeps any accepted issuer name exactly", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }), (o) => {
        fc.pre([...o].length <= 64 && o.trim().length > 0 && !/[\u0000-\u001f\u007f]/.test(o));
        assertIssuerName(o);
        const parsed = new x509.Name(subjectName("agt_1", o).toArrayBuffer());
        expect(parsed.getField("O")).toEqual([o]);
      }),
      { numRuns: 200 },
    );
  });

  it("the CA subject is fixed", () => {
    expect(CA_SUBJECT).toBe("CN=Kakunin Root CA, O=Kakunin");
  });
});

describe("assertRsaSpki", () => {
  it("accepts a DER SubjectPublicKeyInfo of an RSA key of at least 2048 bits", () => {
    expect(() => assertRsaSpki(RSA_2048)).not.toThrow();
  });

  it("refuses smaller RSA keys, other key types and garbage, naming the field", () => {
    const ec = new Uint8Array(
      generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "der", type: "spki" }),
    );
    const ed = new Uint8Array(generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }));
    const truncated = RSA_2048.subarray(0, RSA_2048.length - 1);
    for (const [what, spki] of [
      ["rsa1024", rsaSpki(1024)],
      ["ec", ec],
      ["ed25519", ed],
      ["truncated", truncated],
      ["empty", new Uint8Array()],
    ] as const) {
      const e = validationError(() => assertRsaSpki(spki, "newKey"));
      expect([e.status, e.field], what).toEqual([422, "newKey"]);
    }
  });
});

describe("validity windows", () => {
  const date = fc.date({
    min: new Date("1950-01-01T00:00:00Z"),
    max: new Date("2200-01-01T00:00:00Z"),
    noInvalidDate: true,
  });

  it("truncateToSecond drops the milliseconds and nothing else", () => {
    fc.assert(
      fc.property(date, (d) => {
        const t = truncateToSecond(d).getTime();
        expect(t % 1000 === 0).toBe(true);
        expect(d.getTime() - t).toBeGreaterThanOrEqual(0);
        expect(d.getTime() - t).toBeLessThan(1000);
      }),
    );
    expect(truncateToSecond(new Date("2026-11-25T19:29:28.999Z")).toISOString()).toBe("2026-11-25T19:29:28.000Z");
  });

  it("is [notBefore, notBefore + days], both on whole seconds, when the CA outlives it", () => {
    fc.assert(
      fc.property(date, fc.integer({ min: 1, max: 4000 }), (nb, days) => {
        const w = validityWindow(nb, days, new Date(nb.getTime() + (days + 1) * DAY_MS));
        expect(w.notBefore.getTime()).toBe(truncateToSecond(nb).getTime());
        expect(w.notAfter.getTime() - w.notBefore.getTime()).toBe(days * DAY_MS);
      }),
    );
  });

  it("never ends past the cap (the CA's notAfter), truncated to its second", () => {
    fc.assert(
      fc.property(
        date,
        fc.integer({ min: 1, max: 4000 }),
        fc.integer({ min: 0, max: 4000 * DAY_MS }),
        (nb, days, offset) => {
          const cap = new Date(nb.getTime() + offset);
          const w = validityWindow(nb, days, cap);
          expect(w.notAfter.getTime()).toBeLessThanOrEqual(cap.getTime());
          const uncapped = truncateToSecond(nb).getTime() + days * DAY_MS;
          expect(w.notAfter.getTime()).toBe(uncapped > cap.getTime() ? truncateToSecond(cap).getTime() : uncapped);
        },
      ),
    );
  });

  it("without a cap is notBefore + days", () => {
    const w = validityWindow(new Date("2026-01-01T00:00:00.500Z"), 365);
    expect([w.notBefore.toISOString(), w.notAfter.toISOString()]).toEqual([
      "2026-01-01T00:00:00.000Z",
      "2027-01-01T00:00:00.000Z",
    ]);
  });
});

describe("extensions", () => {
  const byOid = (exts: x509.Extension[]) => new Map(exts.map((e) => [e.type, e]));

  it("CA: basicConstraints CA:TRUE pathLen 0 (critical), keyCertSign + cRLSign (critical), SKI of the key, AKI = SKI", async () => {
    const exts = await caExtensions(RSA_2048);
    const m = byOid(exts);
    expect(m.size).toBe(exts.length);
    const bc = m.get("2.5.29.19") as x509.BasicConstraintsExtension;
    expect([bc.ca, bc.pathLength, bc.critical]).toEqual([true, 0, true]);
    const ku = m.get("2.5.29.15") as x509.KeyUsagesExtension;
    expect([ku.usages, ku.critical]).toEqual([x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true]);
    const ski = m.get("2.5.29.14") as x509.SubjectKeyIdentifierExtension;
    expect([ski.keyId, ski.critical]).toEqual([spkiKeyId(RSA_2048), false]);
    expect((m.get("2.5.29.35") as x509.AuthorityKeyIdentifierExtension).keyId).toBe(ski.keyId);
    expect([...m.keys()].sort()).toEqual(["2.5.29.14", "2.5.29.15", "2.5.29.19", "2.5.29.35"]);
  });

  it("agent and log signer: CA:FALSE and digitalSignature (critical), documentSigning only, one URI SAN, SKI, AKI = CA key id, CRL DP", async () => {
    const san = "spiffe://kakunin.local/agent/agt_1";
    const crlUrl = "http://kakunin.test/v1/public/crl";
    const exts = await signerExtensions({ spki: RSA_2048, san, caKeyId: "0a1b2c3d", crlUrl });
    const m = byOid(exts);
    expect(m.size).toBe(exts.length);
    expect([...m.keys()].sort()).toEqual([
      "2.5.29.14",
      "2.5.29.15",
      "2.5.29.17",
      "2.5.29.19",
      "2.5.29.31",
      "2.5.29.35",
      "2.5.29.37",
    ]);
    const bc = m.get("2.5.29.19") as x509.BasicConstraintsExtension;
    expect([bc.ca, bc.critical]).toEqual([false, true]);
    const ku = m.get("2.5.29.15") as x509.KeyUsagesExtension;
    expect([ku.usages, ku.critical]).toEqual([x509.KeyUsageFlags.digitalSignature, true]);
    const eku = m.get("2.5.29.37") as x509.ExtendedKeyUsageExtension;
    expect([eku.usages, eku.critical]).toEqual([[OID_DOCUMENT_SIGNING], false]);
    const sanExt = m.get("2.5.29.17") as x509.SubjectAlternativeNameExtension;
    expect(sanExt.names.toJSON()).toEqual([{ type: "url", value: san }]);
    expect((m.get("2.5.29.14") as x509.SubjectKeyIdentifierExtension).keyId).toBe(spkiKeyId(RSA_2048));
    expect((m.get("2.5.29.35") as x509.AuthorityKeyIdentifierExtension).keyId).toBe("0a1b2c3d");
    const dp = m.get("2.5.29.31") as x509.CRLDistributionPointsExtension;
    expect(
      dp.distributionPoints.map((p) => p.distributionPoint?.fullName?.map((n) => n.uniformResourceIdentifier)),
    ).toEqual([[crlUrl]]);
    expect(
      exts
        .filter((e) => e.critical)
        .map((e) => e.type)
        .sort(),
    ).toEqual(["2.5.29.15", "2.5.29.19"]);
  });
});
