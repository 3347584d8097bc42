import { spawnSync } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, webcrypto } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import canonicalize from "canonicalize";
import { beforeAll, describe, expect, it } from "vitest";
import { LineVerifier, verifyExport, type LineResult, type SignaturePool } from "../../../verifier/src/index.js";
import { nodeLineCrypto } from "../../../verifier/src/node/node-crypto.js";
import { entryLeafHash } from "../../../verifier/src/formats/leaf.js";
import { loadNative } from "../../../verifier/src/node/native.js";
import { B64 } from "../../../verifier/src/parse/fields.js";
import { pssSign } from "./fixtures/chain.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import * as t from "./tamper.js";

let s: Scenario;
let keys: Map<string, Uint8Array>;
beforeAll(async () => {
  s = await scenario();
  keys = new Map(
    await Promise.all(
      s.certs.map(
        async (c) =>
          [c.serial, new Uint8Array(await webcrypto.subtle.exportKey("spki", c.keys.publicKey))] as [
            string,
            Uint8Array,
          ],
      ),
    ),
  );
}, 120_000);

// computedHash is left out: a host crypto may report only whether it matches (the native addon).
const strip = (rs: LineResult[]) =>
  rs.map((r) => (r.kind === "entry" ? { seq: r.entry.seq, hashOk: r.hashOk, sigOk: r.sigOk } : r));

describe("node:crypto LineCrypto (the CLI workers' backend)", () => {
  it("gives exactly the WebCrypto results, untouched and tampered", async () => {
    const variants = [
      s.lines,
      t.flipEntryField(s.lines, 4, "sig"),
      t.flipEntryField(s.lines, 5, "time"),
      t.editEntry(s.lines, 6, (e) => {
        e.sig = "AAAA";
      }),
      t.editEntry(s.lines, 7, (e) => {
        e.signer.cert = "0a";
      }),
    ];
    for (const lines of variants) {
      const web = await new LineVerifier(keys).verifyLines(lines);
      const node = await new LineVerifier(keys, nodeLineCrypto({ native: false })).verifyLines(lines);
      expect(strip(node)).toEqual(strip(web));
      const native = await new LineVerifier(keys, nodeLineCrypto()).verifyLines(lines);
      expect(strip(native)).toEqual(strip(web));
      const fast = await new LineVerifier(keys, nodeLineCrypto()).verifyLines(t.serverFormat(lines));
      expect(strip(fast)).toEqual(strip(web));
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
    const r = await verifyExport(t.flipEntryField(s.lines, 6, "sig"), {
      trust: { caFingerprint: s.ca.fingerprint },
      pool,
    });
    expect(r.findings).toContainEqual(expect.objectContaining({ seq: 6, code: "ERR_SIG_INVALID" }));
    expect(r.counts.failed).toBe(1);
  });
});

describe("native addon (optional OpenSSL accelerator of the CLI)", () => {
  const addon = loadNative();
  const enc = new TextEncoder();
  it.skipIf(!addon)("agrees with node:crypto on hashes, signatures and bad input, and flags non-base64", async () => {
    const a = addon!;
    const signer = s.a1;
    const spki = keys.get(signer.serial)!;
    const key = a.prepareKey(spki);
    expect(key).not.toBeNull();
    const msg = '{"a":"é ü 😀","n":1}';
    const sig = await pssSign(signer, enc.encode(msg));
    const h = createHash("sha256").update(msg).digest("hex");
    expect(a.verifyEntry(key, msg, h, sig)).toBe(3);
    expect(a.verifyEntry(key, `${msg} `, h, sig)).toBe(0);
    expect(a.verifyEntry(key, msg, h.toUpperCase(), sig)).toBe(2); // hashes are lowercase hex
    expect(a.verifyEntry(null, msg, h, sig)).toBe(1);
    expect(a.verifyEntry(a.prepareKey(keys.get(s.b1.serial)!), msg, h, sig)).toBe(1); // another key
    for (const bad of [
      "",
      "====",
      "QUFB=",
      "QUFBQQ",
      "QU=B",
      'QUFB"',
      `${sig}AAAA`.replace(/=/g, "A"),
      "@".repeat(344),
      "A".repeat(5000),
    ]) {
      const bits = a.verifyEntry(key, msg, h, bad);
      expect(bits & 2, bad.slice(0, 20)).toBe(0);
      // Not strict padded base64 → bit 2 (the JavaScript side then reports ERR_MALFORMED); valid base64 of the wrong length is just a bad signature.
      expect((bits & 4) !== 0, bad.slice(0, 20)).toBe(!B64.test(bad) || bad.length > 1368);
    }
    expect(a.prepareKey(new Uint8Array([1, 2, 3]))).toBeNull();
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "der", type: "spki" });
    expect(a.prepareKey(new Uint8Array(ec))).toBeNull();
    expect(() => a.verifyEntry(key, 5 as unknown as string, h, sig)).toThrow(
      expect.objectContaining({ code: "ERR_NATIVE" }),
    );
  });
  it.skipIf(!addon)(
    "writes the entry's RFC 9162 leaf hash (bit 3) only when hash and sig need no escaping",
    async () => {
      const a = addon!;
      const key = a.prepareKey(keys.get(s.a1.serial)!);
      for (const line of t.serverFormat(s.lines)) {
        const v = JSON.parse(line);
        if (v.kind !== "entry") continue;
        const { hash, sig, ...rest } = v.entry;
        const msg = canonicalize(rest)!;
        const want = await entryLeafHash(v.entry);
        const out = new Uint8Array(40).fill(7);
        expect(a.verifyEntry(key, msg, hash, sig, out) & 8).toBe(8);
        expect(Buffer.from(out.subarray(0, 32)).toString("hex")).toBe(Buffer.from(want).toString("hex"));
        expect(out[32]).toBe(7); // nothing written past the hash
        // Upper-case hex, non-base64 signature, a message not ending in "}", a short buffer: not written.
        for (const [m, hh, sg, o] of [
          [msg, hash.toUpperCase(), sig, new Uint8Array(32)],
          [msg, hash, `${sig.slice(0, -1)}"`, new Uint8Array(32)],
          [`${msg} `, hash, sig, new Uint8Array(32)],
          [msg, hash, sig, new Uint8Array(31)],
        ] as const) {
          expect(a.verifyEntry(key, m, hh, sg, o) & 8).toBe(0);
          expect(o.every((b) => b === 0)).toBe(true);
        }
        // A long message (heap path) still gives the right leaf.
        const long = { ...rest, details: { note: "x".repeat(9000) } };
        const longMsg = canonicalize(long)!;
        const longOut = new Uint8Array(32);
        expect(a.verifyEntry(key, longMsg, hash, sig, longOut) & 8).toBe(8);
        expect(Buffer.from(longOut).toString("hex")).toBe(
          Buffer.from(await entryLeafHash({ ...long, hash, sig })).toString("hex"),
        );
        break;
      }
    },
  );
  it.skipIf(!addon)(
    "sha256Into (the tree's interior nodes) is SHA-256, and refuses what is not two Uint8Arrays",
    () => {
      const a = addon!;
      for (const len of [0, 1, 65, 1000]) {
        const input = new Uint8Array(len).map((_, i) => (i * 31 + len) & 255);
        const out = new Uint8Array(32);
        a.sha256Into!(input, out);
        expect(Buffer.from(out).toString("hex")).toBe(createHash("sha256").update(input).digest("hex"));
      }
      expect(() => a.sha256Into!(new Uint8Array(1), new Uint8Array(31))).toThrow(TypeError);
      expect(() => (a.sha256Into as (x: unknown, y: unknown) => void)("x", new Uint8Array(32))).toThrow(TypeError);
    },
  );
  it.skipIf(!addon)("its verdicts match `openssl dgst -verify` on the scenario's entries", () => {
    const a = addon!;
    const dir = mkdtempSync(join(tmpdir(), "kakunin-native-"));
    for (const line of t.serverFormat(s.lines)) {
      const v = JSON.parse(line);
      if (v.kind !== "entry") continue;
      const { hash, sig, ...rest } = v.entry;
      const msg = canonicalize(rest)!;
      const signer = s.signerOf(rest.signer.cert);
      writeFileSync(join(dir, "m"), msg);
      writeFileSync(join(dir, "s"), Buffer.from(sig, "base64"));
      writeFileSync(
        join(dir, "k.pem"),
        createPublicKey({ key: Buffer.from(keys.get(signer.serial)!), format: "der", type: "spki" }).export({
          format: "pem",
          type: "spki",
        }),
      );
      const ossl =
        spawnSync("openssl", [
          "dgst",
          "-sha256",
          "-sigopt",
          "rsa_padding_mode:pss",
          "-sigopt",
          "rsa_pss_saltlen:32",
          "-verify",
          join(dir, "k.pem"),
          "-signature",
          join(dir, "s"),
          join(dir, "m"),
        ]).status === 0;
      expect(ossl).toBe(true);
      expect(a.verifyEntry(a.prepareKey(keys.get(signer.serial)!), msg, hash, sig)).toBe(3);
      expect(a.verifyEntry(a.prepareKey(keys.get(signer.serial)!), `${msg} `, hash, sig) & 2).toBe(0);
    }
  });
});
