/** Pure parts of log-side timestamping: settings, the token store, checkpoint.tsr bytes, the --tsa bundle, strict DER. */
import "reflect-metadata";
import { createHash } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { loadTimestampingConfig, parseTsaUrls } from "../../../server/log/timestamping/config.js";
import { MemoryTimestampStore, type CheckpointTimestamp } from "../../../server/log/timestamping/store.js";
import { CheckpointTimestamper } from "../../../server/log/timestamping/timestamper.js";
import { checkpointTsr } from "../../../server/log/timestamping/tsr.js";
import { assertStrictDer } from "../../../verifier/src/timestamp/der-strict.js";
import {
  buildTimestampRequest,
  encodeTimestampResponse,
  extractTimestampToken,
  parseTsaBundle,
} from "../../../verifier/src/timestamp/index.js";
import { pemEncode } from "../../../verifier/src/formats/pem.js";
import { checkpointCovering } from "../../helpers/tsa-evidence.js";
import { testTsa } from "./fixtures.js";

describe("KAKUNIN_TSA_URLS", () => {
  it("parses comma-separated http(s) URLs in order, blanks trimmed; empty is off", () => {
    expect(parseTsaUrls(undefined)).toEqual([]);
    expect(parseTsaUrls("  ")).toEqual([]);
    expect(parseTsaUrls(" http://tsa.example/ , https://tsa.example:8443/rfc3161?x=1")).toEqual([
      "http://tsa.example/",
      "https://tsa.example:8443/rfc3161?x=1",
    ]);
  });

  it.each([
    ["ftp://tsa.example/", /item 1: scheme ftp: is not http or https/],
    ["http://a/,,http://b/", /item 2 is empty/],
    ["http://a/,http://a", /item 2 repeats http:\/\/a\//],
    ["http://tsa.example/#x", /fragment/],
    ["tsa.example", /item 1 is not an absolute URL/],
    [Array.from({ length: 9 }, (_, i) => `http://t${i}.example/`).join(","), /names 9 TSAs, at most 8/],
  ])("refuses %s", (raw, msg) => {
    expect(() => parseTsaUrls(raw)).toThrow(msg);
  });

  it("refuses credentials in a URL without repeating them", () => {
    let message = "";
    try {
      parseTsaUrls("http://alice:s3cret@tsa.example/");
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code: string }).code).toBe("ERR_CONFIG");
    }
    expect(message).toMatch(/credentials in the URL are refused/);
    expect(message).not.toContain("s3cret");
    expect(() => parseTsaUrls("alice:s3cret@tsa")).toThrow(/^(?!.*s3cret)/);
  });
});

describe("loadTimestampingConfig", () => {
  const ca = async () => {
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    return x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "01",
      name: "CN=Pin",
      notBefore: new Date("2026-01-01"),
      notAfter: new Date("2027-01-01"),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      keys,
    });
  };

  it("defaults, and a trust file read through the --tsa bundle parser", async () => {
    const pem = (await ca()).toString("pem");
    const c = loadTimestampingConfig(
      { KAKUNIN_TSA_URLS: "http://tsa.example/", KAKUNIN_TSA_TRUST_FILE: "/pin.pem" },
      () => pem,
    );
    expect(c).toMatchObject({ urls: ["http://tsa.example/"], timeoutMs: 5000, attempts: 2 });
    expect(c.trust?.trusted.length).toBe(1);
    expect(loadTimestampingConfig({})).toEqual({ urls: [], timeoutMs: 5000, attempts: 2 });
  });

  it("errors name the variable: no pin, unreadable or bad pin, out-of-range numbers, a policy that is not an OID", async () => {
    expect(() => loadTimestampingConfig({ KAKUNIN_TSA_URLS: "http://tsa.example/" })).toThrow(
      /KAKUNIN_TSA_TRUST_FILE is not/,
    );
    expect(() =>
      loadTimestampingConfig({ KAKUNIN_TSA_TRUST_FILE: "/nope.pem" }, () => {
        throw Object.assign(new Error("x"), { code: "ENOENT" });
      }),
    ).toThrow(/KAKUNIN_TSA_TRUST_FILE \/nope.pem cannot be read: ENOENT/);
    expect(() =>
      loadTimestampingConfig(
        { KAKUNIN_TSA_TRUST_FILE: "/k.pem" },
        () => "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
      ),
    ).toThrow(/KAKUNIN_TSA_TRUST_FILE line 1 \(block 1\): PUBLIC KEY is neither CERTIFICATE nor X509 CRL/);
    expect(() => loadTimestampingConfig({ KAKUNIN_TSA_TIMEOUT_MS: "0" })).toThrow(
      /Invalid KAKUNIN_TSA_TIMEOUT_MS: "0"/,
    );
    expect(() => loadTimestampingConfig({ KAKUNIN_TSA_ATTEMPTS: "6" })).toThrow(/KAKUNIN_TSA_ATTEMPTS/);
    expect(() => loadTimestampingConfig({ KAKUNIN_TSA_POLICY: "1.2.x" })).toThrow(/KAKUNIN_TSA_POLICY/);
  });

  it("the --tsa bundle: certificates and CRLs; a broken block is named by line; no certificate is refused", async () => {
    const pin = await ca();
    const crlPem = "-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n";
    const text = `# pins\n\n${pin.toString("pem")}\n${crlPem}`;
    const crlLine = text.split("\n").findIndex((l) => l.startsWith("-----BEGIN X509 CRL")) + 1;
    expect(crlLine).toBeGreaterThan(5);
    expect(() => parseTsaBundle(text)).toThrow(`--tsa line ${crlLine} (block 2): X509 CRL does not parse`);
    expect(() => parseTsaBundle(crlPem)).toThrow(/--tsa line 1 \(block 1\): X509 CRL does not parse/);
    expect(() => parseTsaBundle("nothing here")).toThrow(/no PEM block/);
    const b = parseTsaBundle(pin.toString("pem"));
    expect(b).toMatchObject({ crls: [] });
    expect(b.trusted.length).toBe(1);
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const crl = await x509.X509CrlGenerator.create({
      issuer: "CN=Pin",
      thisUpdate: new Date("2026-06-01"),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      signingKey: keys.privateKey,
    });
    const crlPemOk = pemEncode(new Uint8Array(crl.rawData), "X509 CRL"); // RFC 7468 label (@peculiar/x509 writes "CRL")
    const withCrl = parseTsaBundle(pin.toString("pem") + "\n" + crlPemOk);
    expect([withCrl.trusted.length, withCrl.crls.length]).toEqual([1, 1]);
    expect(() => parseTsaBundle(crlPemOk)).toThrow(/holds no CERTIFICATE/);
    expect(() => parseTsaBundle(crl.toString("pem"))).toThrow(/CRL is neither CERTIFICATE nor X509 CRL/);
  });
});

describe("token store and checkpoint.tsr", async () => {
  const t = await testTsa();
  const a = await checkpointCovering(1, 4);
  const b = await checkpointCovering(1, 6);
  const tokenOver = async (text: string) =>
    extractTimestampToken(
      await t.responder.respond(buildTimestampRequest(new Uint8Array(createHash("sha256").update(text).digest())).der),
    );
  const stored = (url: string, token: Uint8Array, genTime: string, serial: string): CheckpointTimestamp => ({
    tsaUrl: url,
    token,
    genTime: new Date(genTime),
    serialNumber: serial,
    policy: "1.2.3.4.5",
    tsaName: "CN=Unit TSA",
  });

  it("adds without duplicates or replacement; firstCovering picks the smallest checkpoint that contains the leaf", async () => {
    const store = new MemoryTimestampStore();
    const ta = stored("http://a/", await tokenOver(a.checkpointText), "2026-06-01T12:00:00Z", "01");
    await store.add(a.checkpointText, [ta]);
    await store.add(a.checkpointText, [ta, { ...ta, serialNumber: "02" }]);
    await store.add(b.checkpointText, [
      stored("http://a/", await tokenOver(b.checkpointText), "2026-06-01T12:01:00Z", "03"),
    ]);
    await store.add("not a checkpoint\n", []); // nothing to add: not even parsed
    expect((await store.tokensFor(a.checkpointText)).map((x) => x.serialNumber)).toEqual(["01", "02"]);
    expect(await store.tokensFor("other\n")).toEqual([]);
    expect((await store.firstCovering("kakunin.test/log/issuer-1", 3))?.size).toBe(4);
    expect((await store.firstCovering("kakunin.test/log/issuer-1", 4))?.size).toBe(6);
    expect(await store.firstCovering("kakunin.test/log/issuer-1", 6)).toBeUndefined();
    expect(await store.firstCovering("other-origin", 0)).toBeUndefined();
    await expect(store.add("not a checkpoint\n", [ta])).rejects.toThrow();
  });

  it("checkpoint.tsr wraps the preferred TSA's token (else the earliest) in a granted TimeStampResp", async () => {
    const x = stored("http://x/", await tokenOver(a.checkpointText), "2026-06-01T12:00:05Z", "0a");
    const y = stored("http://y/", await tokenOver(a.checkpointText), "2026-06-01T12:00:01Z", "0b");
    const tokenOf = (tsr: Uint8Array) => Buffer.from(extractTimestampToken(tsr));
    expect(tokenOf(checkpointTsr([x, y], ["http://x/", "http://y/"])!)).toEqual(Buffer.from(x.token));
    expect(tokenOf(checkpointTsr([x, y], ["http://y/"])!)).toEqual(Buffer.from(y.token));
    expect(tokenOf(checkpointTsr([x, y])!)).toEqual(Buffer.from(y.token));
    const tsr = encodeTimestampResponse(x.token);
    expect(Buffer.from(tsr.subarray(0, 9)).toString("hex")).toMatch(/^3082....3003020100$/);
    expect(() => encodeTimestampResponse(x.token.subarray(1))).toThrow(/not DER/);
  });
});

describe("the timestamper without TSAs", () => {
  it("is disabled: nothing is asked, nothing stored", async () => {
    const store = new MemoryTimestampStore();
    const ts = new CheckpointTimestamper({ config: { urls: [], timeoutMs: 1000, attempts: 1 }, store });
    expect(ts.enabled).toBe(false);
    const text = (await checkpointCovering(0, 1)).checkpointText;
    expect(await ts.stamp(text)).toBeUndefined();
    expect(await store.tokensFor(text)).toEqual([]);
  });
});

describe("strict DER", () => {
  it.each([
    ["30 80 02 01 01 00 00", /indefinite length/],
    ["30 81 03 02 01 01", /non-minimal length/],
    ["30 82 00 03 02 01 01", /non-minimal length/],
    ["30 03 02 02 01", /length runs past its container/],
    ["30 04 02 01 01", /length runs past its container/],
    ["30 03 02 01 01 00", /trailing bytes/],
    ["30 04 02 01 01 05", /missing length/],
  ])("refuses %s", (hex, msg) => {
    expect(() => assertStrictDer(Buffer.from(hex.replace(/ /g, ""), "hex"), "x")).toThrow(msg);
  });
  it("accepts nested definite lengths, long form from 128 bytes", () => {
    assertStrictDer(Buffer.from("3005300302010a", "hex"), "x");
    assertStrictDer(new Uint8Array([0x04, 0x81, 0x80, ...new Uint8Array(128)]), "x");
  });
});
