import { webcrypto } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { LineVerifier, verifyExport, type LineResult, type SignaturePool } from "../../../verifier/src/index.js";
import { nodeLineCrypto } from "../../../verifier/src/node/node-crypto.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import * as t from "./tamper.js";

let s: Scenario;
let keys: Map<string, Uint8Array>;
beforeAll(async () => {
  s = await scenario();
  keys = new Map(await Promise.all(s.certs.map(async (c) => [c.serial, new Uint8Array(await webcrypto.subtle.exportKey("spki", c.keys.publicKey))] as [string, Uint8Array])));
}, 120_000);

const strip = (rs: LineResult[]) => rs.map((r) => (r.kind === "entry" ? { seq: r.entry.seq, computedHash: r.computedHash, hashOk: r.hashOk, sigOk: r.sigOk } : r));

describe("node:crypto LineCrypto (the CLI workers' backend)", () => {
  it("gives exactly the WebCrypto results, untouched and tampered", async () => {
    const variants = [s.lines, t.flipEntryField(s.lines, 4, "sig"), t.flipEntryField(s.lines, 5, "time"), t.editEntry(s.lines, 6, (e) => { e.sig = "AAAA"; }), t.editEntry(s.lines, 7, (e) => { e.signer.cert = "0a"; })];
    for (const lines of variants) {
      const web = await new LineVerifier(keys).verifyLines(lines);
      const node = await new LineVerifier(keys, nodeLineCrypto()).verifyLines(lines);
      expect(strip(node)).toEqual(strip(web));
    }
  });
  it("an unusable SPKI verifies nothing (false, never throws)", async () => {
    const bad = new Map([...keys].map(([k]) => [k, new Uint8Array([1, 2, 3])]));
    const rs = await new LineVerifier(bad, nodeLineCrypto()).verifyLines(s.lines);
    expect(rs.filter((r) => r.kind === "entry").every((r) => r.kind === "entry" && r.sigOk === false)).toBe(true);
  });
  it("drives verifyExport to the same report", async () => {
    const v = new LineVerifier(undefined, nodeLineCrypto());
    const pool: SignaturePool = { setKeys: (k) => v.setKeys(k), verifyLines: (l) => v.verifyLines(l) };
    const r = await verifyExport(t.flipEntryField(s.lines, 6, "sig"), { trust: { caFingerprint: s.ca.fingerprint }, pool });
    expect(r.findings).toContainEqual(expect.objectContaining({ seq: 6, code: "ERR_SIG_INVALID" }));
    expect(r.counts.failed).toBe(1);
  });
});
