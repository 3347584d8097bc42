/**
 * Known signed-note vectors, byte for byte, from test/fixtures/signed-note/: golang.org/x/mod's
 * sumdb/note tests (the reference implementation) and the examples of c2sp.org/signed-note,
 * tlog-checkpoint and tlog-cosignature. Key IDs, verifier key parsing, signatures (Ed25519 is
 * deterministic: our signNote must reproduce Go's note exactly) and Go's negative cases.
 */
import { createPrivateKey, sign as nodeSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  base64Encode,
  cosignatureMessage,
  ed25519KeyId,
  formatVerifierKey,
  isValidKeyName,
  openNote,
  parseCheckpoint,
  parseCosignature,
  parseNote,
  parseVerifierKey,
  signNote,
  type NoteSignature,
} from "../../../verifier/src/formats/index.js";

const dir = new URL("../../fixtures/signed-note/", import.meta.url);
const go = JSON.parse(readFileSync(new URL("go-sumdb-note.json", dir), "utf8"));
const c2sp = JSON.parse(readFileSync(new URL("c2sp-examples.json", dir), "utf8"));
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));
/** A parsed signature as Go's Signature{Name, Hash, Base64}. */
const asGo = (s: NoteSignature) => {
  const raw = new Uint8Array(4 + s.signature.length);
  new DataView(raw.buffer).setUint32(0, s.keyId);
  raw.set(s.signature, 4);
  return { name: s.name, hash: s.keyId.toString(16).padStart(8, "0"), base64: base64Encode(raw) };
};

describe("golang.org/x/mod/sumdb/note vectors", () => {
  it("parses the verifier keys and recomputes their key IDs (SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4])", async () => {
    for (const vkey of [go.peterVkey, go.enochVkey] as string[]) {
      const k = await parseVerifierKey(vkey);
      const [name, hex] = vkey.split("+");
      expect(k.name).toBe(name);
      expect(k.keyId).toBe(parseInt(hex!, 16));
      expect(await ed25519KeyId(k.name, k.publicKey)).toBe(k.keyId);
      expect(await formatVerifierKey(k.name, k.publicKey)).toBe(vkey);
    }
  });

  it("rejects every substring and every byte increment of the key, and the two adjusted-hash keys (TestNewVerifier)", async () => {
    const b = Buffer.from(go.peterVkey as string);
    const bad: string[] = [...go.badVerifierKeys];
    for (let i = 0; i <= b.length; i++)
      for (let j = i + 1; j <= b.length; j++) if (i !== 0 || j !== b.length) bad.push(b.subarray(i, j).toString());
    for (let i = 0; i < b.length; i++) {
      const c = Buffer.from(b);
      c[i]!++;
      bad.push(c.toString());
    }
    let rejected = 0;
    for (const k of bad) {
      await expect(parseVerifierKey(k), k).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_(NOTE_FORMAT|MALFORMED)$/),
      });
      rejected++;
    }
    expect(rejected).toBe(bad.length);
  });

  it("signs the note exactly as Go's Sign does, from the PRIVATE+KEY seed (TestSign)", async () => {
    const skey = go.peterSkey as string; // PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ 32-byte seed)
    const [, , name, hex, material] = skey
      .split("+")
      .reduce<string[]>((acc, part, i) => (i < 5 ? [...acc, part] : [...acc.slice(0, 4), `${acc[4]}+${part}`]), []);
    const seed = bytes(material!);
    expect(seed[0]).toBe(0x01);
    const priv = createPrivateKey({
      key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed.subarray(1)]),
      format: "der",
      type: "pkcs8",
    });
    const key = await parseVerifierKey(go.peterVkey);
    expect([name, parseInt(hex!, 16)]).toEqual([key.name, key.keyId]);
    const note = await signNote(go.text, name!, key.publicKey, async (m) => new Uint8Array(nodeSign(null, m, priv)));
    expect(note).toBe(go.signedNote);
  });

  it("opens the note: one verified, one unverified; both verified; none verified (TestOpen)", async () => {
    const peter = await parseVerifierKey(go.peterVkey);
    const enoch = await parseVerifierKey(go.enochVkey);
    const msg = `${go.text}\n${go.peterSig}${go.enochSig}`;
    const one = await openNote(msg, [peter]);
    expect(one.text).toBe(go.text);
    expect(one.verified.map(asGo)).toEqual([go.peterSignature]);
    expect(one.unverified.map(asGo)).toEqual([go.enochSignature]);
    const both = await openNote(msg, [peter, enoch]);
    expect(both.verified.map(asGo)).toEqual([go.peterSignature, go.enochSignature]);
    expect(both.unverified).toEqual([]);
    await expect(openNote(msg, [])).rejects.toThrow("note has no verifiable signatures");
    expect(parseNote(msg).signatures.map(asGo)).toEqual([go.peterSignature, go.enochSignature]);
  });

  it("finds keys by name and ID only, and refuses an ambiguous key list (TestVerifierList, TestOpen)", async () => {
    const peter = await parseVerifierKey(go.peterVkey);
    const enoch = await parseVerifierKey(go.enochVkey);
    // Wrong ID / wrong name: an unknown key, so nothing verifies.
    for (const k of [
      { ...peter, keyId: 0xc74f20a4 },
      { ...peter, name: "PeterNeuman" },
    ])
      await expect(openNote(go.signedNote, [k])).rejects.toThrow("note has no verifiable signatures");
    await expect(openNote(`${go.text}\n${go.enochSig}`, [enoch, peter, enoch])).rejects.toThrow(
      "ambiguous key EnochRoot+af0cfe78",
    );
    expect((await openNote(`${go.text}\n${go.peterSig}`, [enoch, peter, enoch])).verified.map(asGo)).toEqual([
      go.peterSignature,
    ]);
  });

  it("drops repeated identical lines, keeps distinct unknown ones, caps at 100 lines, rejects a bad known signature", async () => {
    const peter = await parseVerifierKey(go.peterVkey);
    const dup = await openNote(bytes(go.duplicatesNoteBase64), [peter]);
    expect(dup.verified.map(asGo)).toEqual([go.peterSignature]);
    expect(dup.unverified.map(asGo)).toEqual([
      go.enochSignature,
      { name: "EnochRoot", hash: "af0cfe78", base64: go.enochABCD },
    ]);
    for (const keys of [[peter], []])
      await expect(openNote(`${go.text}\n${(go.peterSig as string).repeat(101)}`, keys)).rejects.toMatchObject({
        code: "ERR_NOTE_FORMAT",
      });
    await expect(openNote(bytes(go.invalidSignatureNoteBase64), [peter])).rejects.toThrow(
      "invalid signature for key PeterNeumann+c74f20a3",
    );
  });

  it("rejects each of Go's malformed notes (bytes as Go builds them, invalid UTF-8 included)", async () => {
    const peter = await parseVerifierKey(go.peterVkey);
    expect(go.malformedNotesBase64).toHaveLength(7);
    for (const b64 of go.malformedNotesBase64 as string[])
      await expect(openNote(bytes(b64), [peter]), b64).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_(NOTE_FORMAT|MALFORMED)$/),
      });
  });

  it("names: Go's rule (no Unicode White_Space, no '+', valid UTF-8) — U+FEFF is not a space", () => {
    for (const ok of ["PeterNeumann", "example.com/foo", "a\ufeffb", "ünïcode"])
      expect(isValidKeyName(ok), ok).toBe(true);
    for (const bad of ["", "a b", "a+b", "a\tb", "a\u0085b", "a\u00a0b", "a\u2003b", "a\u3000b", "a\ud800b"])
      expect(isValidKeyName(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe("C2SP examples", () => {
  it("signed-note: the example vkey verifies the example note", async () => {
    const key = await parseVerifierKey(c2sp.signedNote.vkey);
    expect(key.keyId).toBe(0x530d903a);
    expect(await ed25519KeyId("example.com/foo", key.publicKey)).toBe(0x530d903a);
    const opened = await openNote(c2sp.signedNote.note, [key]);
    expect([opened.text, opened.verified.length]).toEqual(["This is an example message.\n", 1]);
    const flipped = (c2sp.signedNote.note as string).replace("example message", "example massage");
    await expect(openNote(flipped, [key])).rejects.toThrow(/invalid signature/);
  });

  it("signed-note: the introduction's note splits at its last blank line", () => {
    const n = parseNote(c2sp.signedNoteIntro);
    expect(n.text.split("\n")).toHaveLength(5);
    expect(n.signatures.map((s) => s.name)).toEqual(["quasimodo.example/salvatore"]);
    expect(n.signatures[0]!.signature).toHaveLength(64);
  });

  it("tlog-checkpoint and tlog-cosignature: body, log signature, and the cosignature's timestamp and message", () => {
    const n = parseNote(c2sp.cosignedCheckpoint);
    const cp = parseCheckpoint(n.text);
    expect([cp.origin, cp.size, base64Encode(cp.root)]).toEqual([
      "example.com/behind-the-sofa",
      20852163,
      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
    ]);
    expect(parseNote(c2sp.checkpoint).text).toBe(n.text);
    expect(n.signatures.map((s) => [s.name, s.signature.length])).toEqual([
      ["example.com/behind-the-sofa", 64],
      ["witness.example.com/w1", 72],
    ]);
    const co = parseCosignature(n.signatures[1]!);
    expect(co.timestamp).toBe(1679315147); // the "time" line of the spec's message example
    expect(new TextDecoder().decode(cosignatureMessage(n.text, co.timestamp))).toBe(c2sp.cosignatureMessage);
  });
});
