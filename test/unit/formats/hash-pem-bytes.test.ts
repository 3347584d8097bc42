/**
 * formats/hash.ts, pem.ts and bytes.ts against independent references: node:crypto for SHA-256,
 * Buffer for base64, Node's X509Certificate for PEM (what the server's encoders produced before
 * they were replaced by pemEncode).
 */
import { createHash, X509Certificate } from "node:crypto";
import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import {
  base64Decode,
  base64Encode,
  bytesEqual,
  canonicalBytes,
  entryCanonicalBytes,
  entryHash,
  payloadHash,
  pemDecode,
  pemEncode,
  sha256,
  sha256Hex,
  ZERO_HASH,
} from "../../../verifier/src/formats/index.js";
import { makeCa } from "../verifier/fixtures/pki.js";
import { rng } from "../verifier/fixtures/rng.js";

const nodeHex = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const randomBytes = (next: () => number, n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));

describe("hash", () => {
  it("ZERO_HASH is 64 zeros (prevHash of seq 0, head of an empty chain)", () => {
    expect(ZERO_HASH).toBe("0".repeat(64));
  });

  it("sha256 / sha256Hex agree with node:crypto on lengths 0..300", async () => {
    const next = rng(7);
    for (let n = 0; n <= 300; n += 7) {
      const b = randomBytes(next, n);
      expect(await sha256Hex(b)).toBe(nodeHex(b));
      expect(Buffer.from(await sha256(b)).toString("hex")).toBe(nodeHex(b));
    }
  });

  it("entryHash is SHA-256 of JCS(entry without hash and sig), whatever the key order", async () => {
    const entry = { v: 1, seq: 3, type: "agent.operation", details: { b: 1, a: "é" }, hash: "x", sig: "y" };
    const reference = nodeHex(
      Buffer.from(canonicalize({ v: 1, seq: 3, type: "agent.operation", details: { b: 1, a: "é" } })!, "utf8"),
    );
    expect(await entryHash(entry)).toBe(reference);
    expect(
      await entryHash({
        sig: "other",
        details: { a: "é", b: 1 },
        seq: 3,
        hash: "other",
        type: "agent.operation",
        v: 1,
      }),
    ).toBe(reference);
    expect(Buffer.from(entryCanonicalBytes(entry)).toString("utf8")).toBe(
      '{"details":{"a":"é","b":1},"seq":3,"type":"agent.operation","v":1}',
    );
  });

  it("payloadHash: JCS bytes for { json }, the raw bytes otherwise (a view is hashed as its own bytes)", async () => {
    expect(await payloadHash({ json: { b: [1, 2], a: null } })).toBe(nodeHex(Buffer.from('{"a":null,"b":[1,2]}')));
    const whole = new TextEncoder().encode("xxraw payloadyy");
    expect(await payloadHash(whole.subarray(2, 13))).toBe(nodeHex(Buffer.from("raw payload")));
    expect(await payloadHash({ json: "raw payload" })).toBe(nodeHex(Buffer.from('"raw payload"')));
  });

  it("canonicalBytes refuses what JSON cannot represent with ERR_MALFORMED", () => {
    for (const bad of [Number.NaN, Infinity, undefined, "\ud800", { a: 1n }]) {
      expect(() => canonicalBytes(bad), String(bad)).toThrow(expect.objectContaining({ code: "ERR_MALFORMED" }));
    }
  });
});

describe("bytes and PEM", () => {
  it("base64Encode/base64Decode round-trip and match Buffer for lengths 0..200", () => {
    const next = rng(11);
    for (let n = 0; n <= 200; n++) {
      const b = randomBytes(next, n);
      const text = base64Encode(b);
      expect(text).toBe(Buffer.from(b).toString("base64"));
      expect(bytesEqual(base64Decode(text), b)).toBe(true);
    }
  });

  it("bytesEqual: equal bytes, another length, and a difference at every position", () => {
    const a = Uint8Array.from([1, 2, 3, 4, 5]);
    expect(bytesEqual(a, Uint8Array.from(a))).toBe(true);
    expect(bytesEqual(a, a.subarray(0, 4))).toBe(false);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    for (let i = 0; i < a.length; i++) {
      const b = Uint8Array.from(a);
      b[i]! ^= 0x80;
      expect(bytesEqual(a, b), `position ${i}`).toBe(false);
    }
  });

  it("pemEncode writes RFC 7468 with 64-column lines, as Node writes a certificate", async () => {
    const ca = await makeCa("PEM Test CA");
    const der = new Uint8Array(ca.cert.rawData);
    expect(pemEncode(der, "CERTIFICATE")).toBe(new X509Certificate(der).toString());
    expect(bytesEqual(pemDecode(pemEncode(der, "CERTIFICATE"), "CERTIFICATE"), der)).toBe(true);
  });

  it("pemEncode matches the line-wrapped Buffer base64 the server used to write, for every length up to 200", () => {
    const next = rng(13);
    for (let n = 0; n <= 200; n++) {
      const der = randomBytes(next, n);
      const b64 = Buffer.from(der)
        .toString("base64")
        .replace(/(.{64})/g, "$1\n")
        .replace(/\n$/, "");
      expect(pemEncode(der, "X509 CRL")).toBe(`-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`);
    }
  });
});
