import { describe, expect, it, beforeAll } from "vitest";
import { base64Decode, MAX_LINE_LENGTH, pemDecode, verifyExport } from "../../../verifier/src/index.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import * as t from "./tamper.js";

let s: Scenario;
beforeAll(async () => {
  s = await scenario();
}, 120_000);

// Deterministic PRNG so failures reproduce.
function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

describe("fuzz: hostile lines never crash or hang, and give ERR_MALFORMED with the line", () => {
  const trust = () => ({ caFingerprint: s.ca.fingerprint });
  it("random garbage lines inserted among entries", async () => {
    const rand = rng(42);
    for (let round = 0; round < 30; round++) {
      const at = t.entryIndex(s.lines, 3 + (round % 5));
      const len = Math.floor(rand() * 200);
      const garbage = Array.from({ length: len }, () => String.fromCharCode(Math.floor(rand() * 0x3000))).join("");
      const lines = t.insertLine(s.lines, at, garbage || "x");
      const r = await verifyExport(lines, { trust: trust() });
      expect(r.verdict).toBe("FAILED");
      expect(r.errors).toContainEqual(expect.objectContaining({ code: "ERR_MALFORMED", line: at + 1 }));
    }
  });
  it("every line truncated at random points", async () => {
    const rand = rng(7);
    for (let i = 0; i < s.lines.length; i++) {
      const l = s.lines[i]!;
      const cut = t.insertLine(t.deleteLine(s.lines, i), i, l.slice(0, Math.floor(rand() * (l.length - 1))));
      const r = await verifyExport(cut, { trust: trust() });
      expect(r.verdict).toBe("FAILED");
      expect(r.errors.some((e) => e.code === "ERR_MALFORMED" && e.line === i + 1)).toBe(true);
    }
  });
  it("wrong types in each entry field name the field", async () => {
    for (const f of [
      "v",
      "seq",
      "time",
      "type",
      "issuer",
      "agent",
      "signer",
      "payloadHash",
      "prevHash",
      "hash",
      "sig",
      "details",
    ]) {
      for (const bad of [null, 12.5, "str", [], { a: 1 }, true]) {
        const lines = t.editEntry(s.lines, 4, (e) => {
          e[f] = bad;
        });
        const r = await verifyExport(lines, { trust: trust() });
        expect(r.verdict).toBe("FAILED");
        const line = t.entryIndex(s.lines, 4) + 1;
        // Either the shape check names the field on that line, or (same-typed value) the hash catches it.
        const named = r.errors.some(
          (e) =>
            e.code === "ERR_MALFORMED" &&
            e.line === line &&
            (e.field === `entry.${f}` || e.field?.startsWith(`entry.${f}.`)),
        );
        const hashed = r.errors.some((e) => e.code === "ERR_HASH_MISMATCH" && e.seq === 4);
        expect(named || hashed, `${f}=${JSON.stringify(bad)}`).toBe(true);
      }
    }
  });
  it("a huge line is rejected unparsed", async () => {
    const huge = `{"kind":"entry","entry":{"pad":"${"A".repeat(MAX_LINE_LENGTH)}"}}`;
    const lines = t.insertLine(s.lines, t.entryIndex(s.lines, 2), huge);
    const r = await verifyExport(lines, { trust: trust() });
    expect(r.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_MALFORMED", line: t.entryIndex(s.lines, 2) + 1 }),
    );
  });
  it("invalid base64 and PEM are ERR_MALFORMED (or a certificate/CRL error), never an exception", async () => {
    expect(() => base64Decode("ab=c")).toThrow(expect.objectContaining({ code: "ERR_MALFORMED" }));
    expect(() => base64Decode("abc")).toThrow(expect.objectContaining({ code: "ERR_MALFORMED" }));
    expect(() => pemDecode("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----", "CERTIFICATE")).toThrow(
      expect.objectContaining({ code: "ERR_MALFORMED" }),
    );
    const i = s.lines.findIndex((l) => l.includes(`"serial":"${s.a1.serial}"`));
    for (const pem of [
      "not a pem",
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
      "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----",
    ]) {
      const r = await verifyExport(
        t.editLine(s.lines, i, (v) => {
          v.pem = pem;
        }),
        { trust: trust() },
      );
      expect(r.errors).toContainEqual(expect.objectContaining({ code: "ERR_MALFORMED", line: i + 1 }));
    }
    const sigBad = t.editEntry(s.lines, 2, (e) => {
      e.sig = "@@@@";
    });
    const r = await verifyExport(sigBad, { trust: trust() });
    expect(r.errors).toContainEqual(expect.objectContaining({ code: "ERR_MALFORMED", field: "entry.sig" }));
  });
  it("an empty export or a bad header stops cleanly", async () => {
    expect((await verifyExport([], { trust: trust() })).errors[0]?.code).toBe("ERR_MALFORMED");
    const r = await verifyExport(['{"kind":"entry"}', ...s.lines.slice(1)], { trust: trust() });
    expect(r.errors[0]).toMatchObject({ code: "ERR_MALFORMED", line: 1 });
  });
});
