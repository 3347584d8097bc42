import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, type Report } from "../../../verifier/src/index.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import { issueAgent, makeCa, makeCrl, issueLogSigner } from "./fixtures/pki.js";
import { ChainBuilder } from "./fixtures/chain.js";
import * as t from "./tamper.js";
import { ZERO_HASH } from "../../../verifier/src/formats/hash.js";

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

describe("verifyExport: per-entry verdicts across rotation and revocation", () => {
  it("entries of a superseded cert after the rotation entry are FAILED SUPERSEDED", async () => {
    const c = new ChainBuilder(s.ca, s.log);
    await c.registered(s.a1);
    await c.operation(s.a1); // 1: before rotation → PASSED
    await c.rotated(s.a1, s.a2); // 2
    await c.operation(s.a1); // 3: old key after rotation → SUPERSEDED
    await c.operation(s.a2); // 4
    const lines = await c.exportLines([s.log, s.a1, s.a2], await makeCrl(s.ca, [], 1));
    const r = await run(lines);
    expect(r.verdict).toBe("FAILED");
    expect(r.counts).toEqual({ entries: 5, passed: 4, failed: 1, indeterminate: 0 });
    expect(finding(r, 3)).toMatchObject({ verdict: "FAILED", reason: "SUPERSEDED", code: "ERR_SUPERSEDED" });
  });
  it("entries after the revocation entry are FAILED REVOKED, before it PASSED", async () => {
    const c = new ChainBuilder(s.ca, s.log);
    await c.registered(s.b1);
    await c.operation(s.b1); // 1 PASSED
    await c.revoked(s.b1); // 2
    await c.operation(s.b1); // 3 REVOKED
    const crl = await makeCrl(s.ca, [{ serial: s.b1.serial, date: new Date(c.timeOf(2)) }], 2);
    const r = await run(await c.exportLines([s.log, s.b1], crl));
    expect(r.counts).toEqual({ entries: 4, passed: 3, failed: 1, indeterminate: 0 });
    expect(finding(r, 3)).toMatchObject({ verdict: "FAILED", reason: "REVOKED", code: "ERR_REVOKED" });
  });
  it("a CRL-revoked cert with no revocation entry in range is INDETERMINATE NO_POE, unless the checkpoint predates the revocation", async () => {
    const c = new ChainBuilder(s.ca, s.log);
    await c.registered(s.b1);
    await c.operation(s.b1);
    const revokedAt = new Date(Date.now() - 60_000);
    const crl = await makeCrl(s.ca, [{ serial: s.b1.serial, date: revokedAt }], 4);
    const r = await run(await c.exportLines([s.log, s.b1], crl));
    expect(r.verdict).toBe("INDETERMINATE");
    expect(finding(r, 1)).toMatchObject({ verdict: "INDETERMINATE", reason: "NO_POE", code: "ERR_NO_POE" });
    const early = await c.checkpoint(2, { time: new Date(revokedAt.getTime() - 1000) });
    const r2 = await run(await c.exportLines([s.log, s.b1], crl, { checkpoint: early }));
    expect(r2.verdict).toBe("PASSED");
  });
  it("an entry timed outside its certificate's validity is NOT_YET_VALID / EXPIRED", async () => {
    const c = new ChainBuilder(s.ca, s.log, { start: new Date(Date.now() - 10 * 86_400_000) });
    await c.registered(s.a1);
    await c.operation(s.a1); // a1 notBefore is now-1d: entry time now-10d
    const r = await run(await c.exportLines([s.log, s.a1], await makeCrl(s.ca, [], 1)));
    expect(finding(r, 1)).toMatchObject({ reason: "NOT_YET_VALID", code: "ERR_NOT_YET_VALID" });
  });
});

describe("verifyExport: tamper matrix", () => {
  const entryFields = [
    "v",
    "seq",
    "time",
    "type",
    "issuer",
    "agent",
    "signer.cert",
    "signer.key",
    "signer.alg",
    "payloadHash",
    "prevHash",
    "details.contentType",
  ];
  for (const f of entryFields) {
    it(`a bit flipped in entry field ${f} fails at that seq`, async () => {
      const r = await run(t.flipEntryField(s.lines, 5, f));
      expect(r.verdict).toBe("FAILED");
      const codes = r.errors.map((e) => e.code);
      // Every change is caught at seq 5 (or, for `seq` itself, at the changed seq 4).
      const at = f === "seq" ? 4 : 5;
      expect(
        r.errors.some((e) => e.seq === at || (e.code === "ERR_MALFORMED" && e.line === t.entryIndex(s.lines, 5) + 1)),
      ).toBe(true);
      expect(
        codes.some((c) =>
          [
            "ERR_HASH_MISMATCH",
            "ERR_MALFORMED",
            "ERR_CHAIN_BROKEN",
            "ERR_UNKNOWN_SIGNER",
            "ERR_SIG_INVALID",
            "ERR_WRONG_ISSUER",
          ].includes(c),
        ),
      ).toBe(true);
    });
  }
  it("a bit flipped in hash: HASH_FAILURE at seq 5 and CHAIN_BROKEN at seq 6", async () => {
    const r = await run(t.flipEntryField(s.lines, 5, "hash"));
    expect(codesAt(r, 5)).toEqual(["ERR_HASH_MISMATCH"]);
    expect(codesAt(r, 6)).toEqual(["ERR_CHAIN_BROKEN"]);
  });
  it("a bit flipped in sig: SIG_CRYPTO_FAILURE at seq 5", async () => {
    const r = await run(t.flipEntryField(s.lines, 5, "sig"));
    expect(finding(r, 5)).toMatchObject({ verdict: "FAILED", reason: "SIG_CRYPTO_FAILURE", code: "ERR_SIG_INVALID" });
    expect(r.counts.failed).toBe(1);
  });
  it("a payloadHash change with a recomputed hash fails the signature", async () => {
    const lines = t.editEntry(s.lines, 2, (e) => {
      e.payloadHash = ZERO_HASH;
    });
    const r = await run(lines);
    expect(codesAt(r, 2)).toContain("ERR_HASH_MISMATCH");
  });
  it("a deleted entry breaks the chain at the next seq", async () => {
    const r = await run(t.deleteEntry(s.lines, 4));
    expect(codesAt(r, 5)).toEqual(["ERR_CHAIN_BROKEN"]);
    expect(finding(r, 5)?.reason).toBe("CHAIN_BROKEN");
  });
  it("a duplicated entry breaks the chain at the duplicate", async () => {
    const r = await run(t.duplicateEntry(s.lines, 3));
    expect(r.findings.filter((f) => f.reason === "CHAIN_BROKEN").map((f) => f.seq)).toEqual([3]);
    expect(r.verdict).toBe("FAILED");
  });
  it("reordered entries break the chain", async () => {
    const r = await run(t.swapEntries(s.lines, 5, 6));
    expect(codesAt(r, 6)).toContain("ERR_CHAIN_BROKEN");
    expect(codesAt(r, 5)).toContain("ERR_CHAIN_BROKEN");
  });
  it("an inserted forged entry fails its signature and breaks the chain after it", async () => {
    const forged = { ...s.chain.entries[5]!, agent: "agt_bob" };
    const lines = t.insertLine(
      s.lines,
      t.entryIndex(s.lines, 6),
      JSON.stringify({ kind: "entry", entry: { ...forged, seq: 6, prevHash: s.chain.entries[5]!.hash } }),
    );
    const r = await run(lines);
    expect(r.verdict).toBe("FAILED");
    expect(codesAt(r, 6)).toContain("ERR_HASH_MISMATCH");
  });
  it("a truncated tail without the checkpoint is ERR_TRUNCATED", async () => {
    const r = await run(t.truncateTail(s.lines, 2, false));
    expect(r.verdict).toBe("FAILED");
    expect(r.errors.map((e) => e.code)).toContain("ERR_TRUNCATED");
  });
  it("a truncated tail with the checkpoint kept is ERR_TRUNCATED at the first missing seq", async () => {
    const r = await run(t.truncateTail(s.lines, 2, true));
    expect(r.errors.filter((e) => e.code === "ERR_TRUNCATED").map((e) => e.seq)).toContain(8);
  });
  it("a missing checkpoint alone is ERR_TRUNCATED", async () => {
    const lines = t.deleteLine(s.lines, t.kindIndex(s.lines, "checkpoint"));
    expect((await run(lines)).errors.map((e) => e.code)).toEqual(["ERR_TRUNCATED"]);
  });
  for (const f of ["size", "head", "time", "issuer", "sig", "signer.cert"]) {
    it(`a bit flipped in checkpoint.${f} is detected`, async () => {
      const r = await run(t.flipLineField(s.lines, t.kindIndex(s.lines, "checkpoint"), `checkpoint.${f}`));
      expect(r.verdict).toBe("FAILED");
      expect(
        r.errors.map((e) => e.code).some((c) => ["ERR_CHECKPOINT", "ERR_MALFORMED", "ERR_TRUNCATED"].includes(c)),
      ).toBe(true);
    });
  }
  it("entries spliced in from another issuer's chain are WRONG_ISSUER", async () => {
    const other = new ChainBuilder(s.ca, s.log, { issuer: "iss_other" });
    for (let i = 0; i < 6; i++) await other.operation(s.a2);
    const spliced = JSON.stringify({ kind: "entry", entry: other.entries[5] });
    const lines = [...t.deleteEntry(s.lines, 5)];
    lines.splice(t.entryIndex(lines, 6), 0, spliced);
    const r = await run(lines);
    expect(codesAt(r, 5)).toContain("ERR_WRONG_ISSUER");
    expect(codesAt(r, 5)).toContain("ERR_CHAIN_BROKEN");
  });
  it("an entry of agent A relabelled as agent B is detected (hash; re-signed by A → SIGNER_MISMATCH)", async () => {
    const relabelled = t.editEntry(s.lines, 5, (e) => {
      e.agent = "agt_bob";
    });
    expect(codesAt(await run(relabelled), 5)).toContain("ERR_HASH_MISMATCH");
    // Even A's own key cannot speak for B.
    const { resign } = await import("./fixtures/chain.js");
    const e5 = await resign({ ...s.chain.entries[5]!, agent: "agt_bob" }, s.a2);
    const lines = t.editEntry(s.lines, 5, () => e5);
    const r = await run(lines);
    expect(finding(r, 5)).toMatchObject({ reason: "SIGNER_MISMATCH", code: "ERR_SIGNER_MISMATCH" });
  });
  it("a lifecycle entry signed by an agent key is SIGNER_MISMATCH", async () => {
    const { resign } = await import("./fixtures/chain.js");
    const e4 = await resign(
      { ...s.chain.entries[4]!, signer: { cert: s.a1.serial, key: s.a1.keyArn, alg: "RSASSA_PSS_SHA_256" } },
      s.a1,
    );
    const r = await run(t.editEntry(s.lines, 4, () => e4));
    expect(codesAt(r, 4)).toContain("ERR_SIGNER_MISMATCH");
  });
  it("an attacker's CA and certificates substituted wholesale: ERR_UNTRUSTED_ROOT", async () => {
    const evilCa = await makeCa("Kakunin Test CA");
    const [evilLog, evilA] = await Promise.all([issueLogSigner(evilCa), issueAgent(evilCa, "agt_alice")]);
    const c = new ChainBuilder(evilCa, evilLog);
    await c.registered(evilA);
    await c.operation(evilA);
    const lines = await c.exportLines([evilLog, evilA], await makeCrl(evilCa, [], 1));
    const r = await run(lines);
    expect(r.verdict).toBe("FAILED");
    expect(r.errors[0]?.code).toBe("ERR_UNTRUSTED_ROOT");
    const r2 = await run(lines, { trust: { caCertificate: s.ca.pem } });
    expect(r2.errors.map((e) => e.code)).toEqual(
      expect.arrayContaining(["ERR_UNTRUSTED_ROOT", "ERR_CERT_PATH", "ERR_CRL"]),
    );
    expect(r2.counts.passed).toBe(0);
  });
  it("the export's CA swapped for an attacker's (own certs kept) is ERR_UNTRUSTED_ROOT", async () => {
    const evilCa = await makeCa();
    const r = await run(
      t.editKind(s.lines, "header", (h) => {
        h.caCertificate = evilCa.pem;
      }),
    );
    expect(r.errors.map((e) => e.code)).toContain("ERR_UNTRUSTED_ROOT");
  });
  it("an agent certificate forged with another key is ERR_CERT_PATH and its entries fail", async () => {
    const evilCa = await makeCa();
    const forged = await issueAgent(s.ca, "agt_mallory", { signingKey: evilCa.keys.privateKey });
    const c = new ChainBuilder(s.ca, s.log);
    await c.registered(forged);
    await c.operation(forged);
    const r = await run(await c.exportLines([s.log, forged], await makeCrl(s.ca, [], 1)));
    expect(r.errors.map((e) => e.code)).toContain("ERR_CERT_PATH");
    expect(finding(r, 1)).toMatchObject({ reason: "CERT_PATH_FAILURE", code: "ERR_CERT_PATH" });
  });
  it("a bit flipped in a certificate's DER is ERR_CERT_PATH (or ERR_MALFORMED)", async () => {
    const i = s.lines.findIndex((l) => l.includes(`"serial":"${s.a2.serial}"`));
    const r = await run(t.flipLineField(s.lines, i, "pem"));
    expect(r.verdict).toBe("FAILED");
    expect(r.errors.map((e) => e.code).some((c) => c === "ERR_CERT_PATH" || c === "ERR_MALFORMED")).toBe(true);
  });
  it("a CRL with a bad signature is ERR_CRL", async () => {
    const evilCa = await makeCa();
    const forgedCrl = await makeCrl(s.ca, [], 99, { signingKey: evilCa.keys.privateKey });
    const r = await run(
      t.editKind(s.lines, "crl", (v) => {
        v.pem = forgedCrl;
      }),
    );
    expect(r.verdict).toBe("FAILED");
    expect(r.errors.map((e) => e.code)).toContain("ERR_CRL");
    const r2 = await run(t.flipLineField(s.lines, t.kindIndex(s.lines, "crl"), "pem"));
    expect(r2.errors.map((e) => e.code)).toContain("ERR_CRL");
  });
  it("a CRL dated in the future is ERR_CRL", async () => {
    const future = await makeCrl(s.ca, [], 5, { thisUpdate: new Date(Date.now() + 86_400_000) });
    const r = await run(
      t.editKind(s.lines, "crl", (v) => {
        v.pem = future;
      }),
    );
    expect(r.errors.map((e) => e.code)).toContain("ERR_CRL");
  });
  it("a certificate missing from the export gives UNKNOWN_SIGNER", async () => {
    const i = s.lines.findIndex((l) => l.includes(`"serial":"${s.a1.serial}"`));
    const r = await run(t.deleteLine(s.lines, i));
    expect(finding(r, 2)).toMatchObject({ reason: "UNKNOWN_SIGNER", code: "ERR_UNKNOWN_SIGNER" });
  });
});
