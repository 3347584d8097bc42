/**
 * The local KMS's Ed25519ph (scripts/kms/crypto/ed25519ph.ts) against RFC 8032 §7.3's vector
 * ("TEST abc"), byte for byte, and its refusals (other message, other key, pure-Ed25519 signature,
 * S ≥ L, malformed points).
 */
import { createPrivateKey, createPublicKey, sign as nodeSign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ed25519phSign, ed25519phVerify, ed25519RawPublicKey } from "../../../scripts/kms/crypto/ed25519ph.js";

// RFC 8032 §7.3, Ed25519ph: SECRET KEY, PUBLIC KEY, MESSAGE "abc", SIGNATURE.
const SEED = "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42";
const PUB = "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf";
const SIG =
  "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406";
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

const key = createPrivateKey({
  key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(SEED, "hex")]),
  format: "der",
  type: "pkcs8",
});
const pub = Buffer.from(PUB, "hex");
const abc = Buffer.from("abc");

describe("Ed25519ph (RFC 8032 §5.1)", () => {
  it("reproduces RFC 8032 §7.3 byte for byte and verifies it", () => {
    expect(ed25519RawPublicKey(key).toString("hex")).toBe(PUB);
    expect(ed25519RawPublicKey(createPublicKey(key)).toString("hex")).toBe(PUB);
    expect(ed25519phSign(key, abc).toString("hex")).toBe(SIG);
    expect(ed25519phVerify(pub, abc, Buffer.from(SIG, "hex"))).toBe(true);
  });

  it("refuses another message, a flipped bit, a pure Ed25519 signature, S + L, and bad points", () => {
    const sig = Buffer.from(SIG, "hex");
    expect(ed25519phVerify(pub, Buffer.from("abd"), sig)).toBe(false);
    for (const i of [0, 31, 32, 63]) {
      const bad = Buffer.from(sig);
      bad[i]! ^= 1;
      expect(ed25519phVerify(pub, abc, bad), `byte ${i}`).toBe(false);
    }
    // Domain separation: pure Ed25519 over the same message (or over its SHA-512) is not Ed25519ph.
    expect(ed25519phVerify(pub, abc, nodeSign(null, abc, key))).toBe(false);
    // S must be reduced: S + L is the same scalar but refused (no malleability).
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    const big = Buffer.from(sig);
    let t = s + L;
    for (let i = 32; i < 64; i++, t >>= 8n) big[i] = Number(t & 0xffn);
    expect(ed25519phVerify(pub, abc, big)).toBe(false);
    expect(ed25519phVerify(pub, abc, sig.subarray(0, 63))).toBe(false);
    expect(ed25519phVerify(Buffer.alloc(32, 0xff), abc, sig)).toBe(false); // y ≥ p: not a point
  });

  it("signs deterministically and verifies its own signatures of other messages", () => {
    const m = Buffer.alloc(64, 7);
    const s1 = ed25519phSign(key, m);
    expect(ed25519phSign(key, m)).toEqual(s1);
    expect(ed25519phVerify(pub, m, s1)).toBe(true);
    expect(ed25519phVerify(pub, Buffer.alloc(64, 8), s1)).toBe(false);
  });
});
