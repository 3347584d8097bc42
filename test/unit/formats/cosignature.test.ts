/** C2SP tlog-cosignature/v1 (Ed25519): the spec's example line and message, key IDs, and tampering. */
import { createHash, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  cosignatureKeyId,
  cosignatureMessage,
  formatCosignerVerifierKey,
  parseCosignature,
  parseCosignerVerifierKey,
  parseNote,
  signCosignature,
  verifyCosignatures,
} from "../../../verifier/src/formats/index.js";

// c2sp.org/tlog-cosignature, the example checkpoint and its "Ed25519 signed message" example.
const SPEC_CHECKPOINT =
  "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" +
  "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" +
  "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
const SPEC_MESSAGE =
  "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12));
  return { raw, privateKey, publicKey };
}

describe("tlog-cosignature/v1", () => {
  it("parses the spec's example cosignature: key ID, timestamp 1679315147 (the message example's), 64-byte signature", () => {
    const note = parseNote(SPEC_CHECKPOINT);
    const c = parseCosignature(note.signatures[1]!);
    expect(c.name).toBe("witness.example.com/w1");
    expect(c.keyId).toBe(0x8d66cf3f);
    expect(c.timestamp).toBe(1679315147);
    expect(c.signature.length).toBe(64);
    expect(new TextDecoder().decode(cosignatureMessage(note.text, c.timestamp))).toBe(SPEC_MESSAGE);
  });

  it("computes key IDs as SHA-256(name ‖ \\n ‖ 0x04 ‖ key)[:4], independently of the implementation", async () => {
    const { raw } = keyPair();
    const expected = createHash("sha256")
      .update(Buffer.concat([Buffer.from("w.example/1\n"), Buffer.from([4]), raw]))
      .digest()
      .readUInt32BE(0);
    expect(await cosignatureKeyId("w.example/1", raw)).toBe(expected);
    const vkey = await formatCosignerVerifierKey("w.example/1", raw);
    expect(vkey).toBe(
      `w.example/1+${expected.toString(16).padStart(8, "0")}+${Buffer.concat([Buffer.from([4]), raw]).toString("base64")}`,
    );
    const parsed = await parseCosignerVerifierKey(vkey);
    expect(parsed.keyId).toBe(expected);
    expect(Buffer.from(parsed.publicKey).equals(Buffer.from(raw))).toBe(true);
  });

  it("refuses vkeys of another type, a wrong ID, or non-canonical base64", async () => {
    const { raw } = keyPair();
    const vkey = await formatCosignerVerifierKey("w", raw);
    const type1 = `w+${vkey.split("+")[1]}+${Buffer.concat([Buffer.from([1]), raw]).toString("base64")}`;
    await expect(parseCosignerVerifierKey(type1)).rejects.toThrow(/type 0x04/);
    await expect(parseCosignerVerifierKey(vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+"))).rejects.toThrow(
      /does not match/,
    );
    await expect(parseCosignerVerifierKey("w+12345678")).rejects.toThrow(/name\+id\+key/);
  });

  it("signs lines a Node verifier accepts over the spec's message layout, and verifies them back", async () => {
    const { raw, privateKey, publicKey } = keyPair();
    const text = "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n";
    const line = await signCosignature(text, "w.example/1", raw, 1700000000, async (m) =>
      nodeSign(null, m, privateKey),
    );
    const sig = parseNote(`${text}\n${line}`).signatures[0]!;
    const c = parseCosignature(sig);
    expect(c.timestamp).toBe(1700000000);
    expect(nodeVerify(null, Buffer.from(`cosignature/v1\ntime 1700000000\n${text}`), publicKey, c.signature)).toBe(
      true,
    );
    const key = await parseCosignerVerifierKey(await formatCosignerVerifierKey("w.example/1", raw));
    expect((await verifyCosignatures(text, [sig], [key])).map((v) => v.timestamp)).toEqual([1700000000]);
  });

  it("ignores unknown keys, refuses a tampered timestamp, body or signature from a known key", async () => {
    const { raw, privateKey } = keyPair();
    const text = "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
    const line = await signCosignature(text, "w", raw, 42, async (m) => nodeSign(null, m, privateKey));
    const key = await parseCosignerVerifierKey(await formatCosignerVerifierKey("w", raw));
    const sig = parseNote(`${text}\n${line}`).signatures[0]!;
    expect(await verifyCosignatures(text, [sig], [])).toEqual([]);
    await expect(verifyCosignatures(text.replace("\n1\n", "\n2\n"), [sig], [key])).rejects.toThrow(
      /invalid cosignature/,
    );
    const badTs = new Uint8Array(sig.signature);
    badTs[7]! ^= 1;
    await expect(
      verifyCosignatures(text, [{ ...sig, signature: badTs as typeof sig.signature }], [key]),
    ).rejects.toThrow(/invalid cosignature/);
    const short = sig.signature.slice(0, 70) as typeof sig.signature;
    await expect(verifyCosignatures(text, [{ ...sig, signature: short }], [key])).rejects.toThrow(
      /malformed cosignature/,
    );
    // A type-0x01 (log) key with the same name never matches the 0x04 key ID.
    const { ed25519KeyId } = await import("../../../verifier/src/formats/index.js");
    expect(await ed25519KeyId("w", raw)).not.toBe(key.keyId);
  });
});
