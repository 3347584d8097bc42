/** C2SP signed-note: the spec's example, golang.org/x/mod/sumdb/note's vectors, and tampering. */
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  formatVerifierKey,
  openNote,
  parseNote,
  parseVerifierKey,
  signNote,
} from "../../../verifier/src/formats/index.js";

// c2sp.org/signed-note, "Verifier keys / Example".
const SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE =
  "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
// golang.org/x/mod/sumdb/note note_test.go.
const PETER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY_SEED = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"; // 0x01 ‖ 32-byte seed
const ENOCH = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG =
  "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

function ed25519FromSeed(seed: Uint8Array) {
  // PKCS#8 wrapper of an Ed25519 seed (RFC 8410): fixed 16-byte prefix.
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]);
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

describe("signed note", () => {
  it("verifies the spec's example note with the spec's example key", async () => {
    const key = await parseVerifierKey(SPEC_VKEY);
    expect(key.name).toBe("example.com/foo");
    expect(key.keyId).toBe(0x530d903a);
    expect(await formatVerifierKey(key.name, key.publicKey)).toBe(SPEC_VKEY);
    const opened = await openNote(SPEC_NOTE, [key]);
    expect(opened.text).toBe("This is an example message.\n");
    expect(opened.verified).toHaveLength(1);
  });

  it("parses the spec's multi-paragraph example (the last blank line splits text from signatures)", () => {
    const msg =
      "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
    const n = parseNote(msg);
    expect(n.text).toBe("Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n");
    expect(n.signatures[0]!.name).toBe("quasimodo.example/salvatore");
  });

  it("signs byte-for-byte like Go's sumdb/note (Ed25519 is deterministic)", async () => {
    const seed = Buffer.from(PETER_SKEY_SEED, "base64").subarray(1);
    const priv = ed25519FromSeed(seed);
    const key = await parseVerifierKey(PETER);
    const msg = await signNote(
      TEXT,
      "PeterNeumann",
      key.publicKey,
      async (m) => new Uint8Array(nodeSign(null, m, priv)),
    );
    expect(msg).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it("verifies Go's vectors: known key verified, unknown key ignored, none known rejected", async () => {
    const peter = await parseVerifierKey(PETER);
    const enoch = await parseVerifierKey(ENOCH);
    const one = await openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter]);
    expect(one.verified.map((s) => s.name)).toEqual(["PeterNeumann"]);
    expect(one.unverified.map((s) => s.name)).toEqual(["EnochRoot"]);
    const both = await openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter, enoch]);
    expect(both.verified).toHaveLength(2);
    await expect(openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [])).rejects.toMatchObject({
      code: "ERR_NOTE_SIGNATURE",
    });
    await expect(openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch, peter, enoch])).rejects.toThrow(/ambiguous key/);
  });

  it("round-trips verifier keys whose base64 contains '+' (only the first two '+' separate fields)", async () => {
    // Find a key whose material's base64 has a '+', deterministically from counter-derived keys.
    for (let i = 0; ; i++) {
      const pub = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`k${i}`)));
      const vkey = await formatVerifierKey("example.com/log", pub);
      if (!vkey.split("+").slice(2).join("+").includes("+")) continue;
      const parsed = await parseVerifierKey(vkey);
      expect(parsed.publicKey).toEqual(pub);
      break;
    }
  });

  it("rejects every mangled verifier key (Go's substring and byte-increment test)", async () => {
    const b = Buffer.from(PETER);
    const bad: string[] = [];
    for (let i = 0; i <= b.length; i++)
      for (let j = i + 1; j <= b.length; j++)
        if (i !== 0 || j !== b.length) bad.push(b.subarray(i, j).toString("latin1"));
    for (let i = 0; i < b.length; i++) {
      const c = Buffer.from(b);
      c[i]!++;
      bad.push(c.toString("latin1"));
    }
    bad.push("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==");
    bad.push("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    for (const k of bad) await expect(parseVerifierKey(k), k).rejects.toThrow();
  });

  it("attacker: tampered text, tampered signature, wrong ID, name collision, duplicates, too many lines", async () => {
    const peter = await parseVerifierKey(PETER);
    await expect(openNote(`${TEXT.replace("answer", "Answer")}\n${PETER_SIG}`, [peter])).rejects.toThrow(
      /invalid signature/,
    );
    const badSig = PETER_SIG.slice(0, 60) + "ABCD" + PETER_SIG.slice(60);
    await expect(openNote(`${TEXT}\n${badSig}`, [peter])).rejects.toThrow(/invalid signature/);
    // Same name, other key ID: an unknown key, ignored, so no verified signature remains.
    const otherId = PETER_SIG.replace("x08g", "xxxx");
    await expect(openNote(`${TEXT}\n${otherId}`, [peter])).rejects.toThrow(/no verifiable signatures/);
    // A forged unknown signature beside a good one is ignored, not trusted.
    const ok = await openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${otherId}`, [peter]);
    expect(ok.verified).toHaveLength(1);
    expect(ok.unverified).toHaveLength(1);
    // Two different signature lines by the same known key: refused, one of them is not the log's.
    await expect(openNote(`${TEXT}\n${PETER_SIG}${badSig}`, [peter])).rejects.toMatchObject({
      code: "ERR_NOTE_SIGNATURE",
    });
    await expect(openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter])).rejects.toMatchObject({
      code: "ERR_NOTE_FORMAT",
    });
    expect((await openNote(`${TEXT}\n${PETER_SIG.repeat(16)}`, [peter])).verified).toHaveLength(1);
  });

  it("rejects malformed notes exactly as Go's Open does", async () => {
    const peter = await parseVerifierKey(PETER);
    const bad = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\x01${TEXT}\n${PETER_SIG}`,
      `\ud800${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n— PeterNeumann\n`,
      `${TEXT}\n— a+b x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
      `${TEXT}\n— PeterNeumann AAAA\n`,
      `${TEXT}\r\n${PETER_SIG}`,
    ];
    for (const msg of bad)
      await expect(openNote(msg, [peter]), JSON.stringify(msg)).rejects.toMatchObject({
        code: expect.stringMatching(/ERR_NOTE_FORMAT|ERR_MALFORMED/),
      });
  });
});

describe("signed note bytes", () => {
  it("accepts UTF-8 bytes and rejects invalid UTF-8 (0xff) as Go does", async () => {
    const peter = await parseVerifierKey(PETER);
    const good = new TextEncoder().encode(`${TEXT}\n${PETER_SIG}`);
    expect((await openNote(good, [peter])).verified).toHaveLength(1);
    const bad = new Uint8Array([0xff, ...good]);
    await expect(openNote(bad, [peter])).rejects.toMatchObject({ code: "ERR_MALFORMED" });
  });
});
