import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, type Report } from "../../../verifier/src/index.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import { issueAgent, makeCa, makeCrl, issueLogSigner } from "./fixtures/pki.js";
import { ChainBuilder } from "./fixtures/chain.js";
import * as t from "./tamper.js";

let s: Scenario;
beforeAll(async () => {
  s = await scenario();
}, 120_000);

const trust = () => ({ caFingerprint: s.ca.fingerprint });
const run = (lines: readonly string[], opts: Partial<Parameters<typeof verifyExport>[1]> = {}) =>
  verifyExport(lines, { trust: trust(), ...opts });

/** Codes reported at a seq. */
function codesAt(r: Report, seq: number): string[] {
  return r.errors.filter((e) => e.seq === seq).map((e) => e.code);
}
function finding(r: Report, seq: number) {
  return r.findings.find((f) => f.seq === seq);
}

describe("verifyExport: untouched", () => {
  it("passes with every step performed", async () => {
    const r = await run(s.lines);
    expect(r.errors).toEqual([]);
    expect(r.verdict).toBe("PASSED");
    expect(r.counts).toEqual({ entries: 10, passed: 10, failed: 0, indeterminate: 0 });
    expect(r.steps.map((x) => x.status)).not.toContain("failed");
  });
  it("passes with the CA pinned by certificate, and with colon/upper-case fingerprints", async () => {
    expect((await run(s.lines, { trust: { caCertificate: s.ca.pem } })).verdict).toBe("PASSED");
    const fp = s.ca.fingerprint.slice(7).toUpperCase().match(/../g)!.join(":");
    expect((await run(s.lines, { trust: { caFingerprint: `SHA256:${fp}` } })).verdict).toBe("PASSED");
  });
  it("accepts an async iterable and reports progress", async () => {
    async function* gen() {
      for (const l of s.lines) yield l;
    }
    const seen: number[] = [];
    const r = await verifyExport(gen(), { trust: trust(), batchSize: 3, onProgress: (p) => seen.push(p.entries) });
    expect(r.verdict).toBe("PASSED");
    expect(seen.at(-1)).toBe(10);
  });
  it("verifies exported payloads and flags a changed one", async () => {
    const lines = await s.chain.exportLines(s.certs, s.crl, { payloads: true });
    expect((await run(lines)).verdict).toBe("PASSED");
    const i = lines.findIndex((l) => l.includes('"kind":"payload","seq":5'));
    const bad = t.editLine(lines, i, (v) => {
      v.json.n = 999;
    });
    const r = await run(bad);
    expect(r.verdict).toBe("FAILED");
    expect(codesAt(r, 5)).toEqual(["ERR_PAYLOAD_MISMATCH"]);
    expect(finding(r, 5)?.reason).toBe("PAYLOAD_MISMATCH");
    const rawIdx = lines.findIndex((l) => l.includes('"kind":"payload","seq":3'));
    const bad2 = t.editLine(lines, rawIdx, (v) => {
      v.base64 = t.flipBitKeepAlphabet(v.base64, 2);
    });
    expect(codesAt(await run(bad2), 3)).toEqual(["ERR_PAYLOAD_MISMATCH"]);
  });
});
