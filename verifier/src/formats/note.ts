/** C2SP signed-note (c2sp.org/signed-note): parsing, formatting, Ed25519 (type 0x01) keys and verification. */
import type { Bytes } from "./bytes.js";
import { base64Decode, base64Encode, utf8Decode, utf8Encode } from "./bytes.js";
import { VerificationError } from "./errors.js";
import { sha256 } from "./hash.js";

/** One signature line: key name, uint32 key ID, and the signature bytes after the ID. */
export interface NoteSignature {
  name: string;
  keyId: number;
  signature: Bytes;
}
/** A parsed note: text (with its final newline) and every signature line, in order. */
export interface Note {
  text: string;
  signatures: NoteSignature[];
}
/** An Ed25519 verifier key (`<name>+<hex id>+<base64(0x01‖key)>`). */
export interface NoteVerifierKey {
  name: string;
  keyId: number;
  publicKey: Bytes;
}

/** Cap on signature lines (the spec requires accepting at least 16; Go's sumdb/note allows 100). */
export const MAX_NOTE_SIGNATURES = 100;
const SIG_PREFIX = "\u2014 ";
const ED25519 = 0x01;

/**
 * Key names: non-empty, no Unicode space (the White_Space property, as Go's unicode.IsSpace in
 * sumdb/note — so U+FEFF, which JavaScript's `\s` matches, is allowed), no '+', valid UTF-16 (no
 * lone surrogate: Go requires valid UTF-8).
 */
export function isValidKeyName(name: string): boolean {
  return (
    name.length > 0 && !/[\t\n\v\f\r +\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|\p{Cs}/u.test(name)
  );
}

function strictBase64(text: string, field: string): Bytes {
  const bytes = base64Decode(text, field);
  if (base64Encode(bytes) !== text)
    throw new VerificationError("ERR_NOTE_FORMAT", `${field} is not canonical base64`, { field });
  return bytes;
}

/** key ID = SHA-256(name ‖ 0x0A ‖ type ‖ 32-byte key)[:4], big-endian (signed-note; cosignatures use type 0x04). */
export async function keyIdFor(name: string, type: number, publicKey: Uint8Array): Promise<number> {
  const n = utf8Encode(name);
  const buf = new Uint8Array(n.length + 2 + publicKey.length);
  buf.set(n);
  buf[n.length] = 0x0a;
  buf[n.length + 1] = type;
  buf.set(publicKey, n.length + 2);
  const h = await sha256(buf);
  return new DataView(h.buffer).getUint32(0);
}

/** key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte key)[:4], big-endian. */
export function ed25519KeyId(name: string, publicKey: Uint8Array): Promise<number> {
  return keyIdFor(name, ED25519, publicKey);
}

/** Formats a verifier key `<name>+<hex id>+base64(type ‖ key)` for a 32-byte Ed25519 public key. */
export async function formatTypedVerifierKey(name: string, type: number, publicKey: Uint8Array): Promise<string> {
  if (!isValidKeyName(name)) throw new VerificationError("ERR_NOTE_FORMAT", "invalid key name", { field: "name" });
  if (publicKey.length !== 32)
    throw new VerificationError("ERR_NOTE_FORMAT", "Ed25519 public key must be 32 bytes", { field: "publicKey" });
  const id = (await keyIdFor(name, type, publicKey)).toString(16).padStart(8, "0");
  const material = new Uint8Array(33);
  material[0] = type;
  material.set(publicKey, 1);
  return `${name}+${id}+${base64Encode(material)}`;
}

/** Formats a verifier key string for an Ed25519 public key. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): Promise<string> {
  return formatTypedVerifierKey(name, ED25519, publicKey);
}

/**
 * Parses a verifier key of one signature type (an Ed25519 key); rejects other types, wrong lengths,
 * and an ID that is not the key's. `kind` names the type in errors.
 */
export async function parseTypedVerifierKey(vkey: string, type: number, kind: string): Promise<NoteVerifierKey> {
  // Split at the first two '+' only: base64 key material may itself contain '+'.
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (second < 0) throw new VerificationError("ERR_NOTE_FORMAT", "verifier key must be name+id+key", { field: "vkey" });
  const name = vkey.slice(0, first);
  const hex = vkey.slice(first + 1, second);
  const b64 = vkey.slice(second + 1);
  if (!isValidKeyName(name)) throw new VerificationError("ERR_NOTE_FORMAT", "invalid key name", { field: "vkey.name" });
  if (!/^[0-9a-f]{8}$/.test(hex))
    throw new VerificationError("ERR_NOTE_FORMAT", "key ID must be 8 lowercase hex digits", { field: "vkey.id" });
  const material = strictBase64(b64, "vkey.key");
  if (material[0] !== type)
    throw new VerificationError(
      "ERR_NOTE_FORMAT",
      `only ${kind} (type 0x${type.toString(16).padStart(2, "0")}) verifier keys are supported`,
      { field: "vkey.key" },
    );
  if (material.length !== 33)
    throw new VerificationError("ERR_NOTE_FORMAT", "Ed25519 key must be 32 bytes", { field: "vkey.key" });
  const publicKey = material.slice(1) as Bytes;
  const keyId = parseInt(hex, 16);
  if ((await keyIdFor(name, type, publicKey)) !== keyId)
    throw new VerificationError("ERR_NOTE_FORMAT", "key ID does not match the key", { field: "vkey.id" });
  return { name, keyId, publicKey };
}

/** Parses an Ed25519 verifier key; rejects other types, wrong lengths, and an ID that is not the key's. */
export function parseVerifierKey(vkey: string): Promise<NoteVerifierKey> {
  return parseTypedVerifierKey(vkey, ED25519, "Ed25519");
}

/** Parses a signed note's structure (no verification); bytes must be valid UTF-8. Throws NoteFormatError on any deviation. */
export function parseNote(input: string | Uint8Array): Note {
  const msg = typeof input === "string" ? input : utf8Decode(input, "note");
  for (const ch of msg) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 && c !== 0x0a) || (c >= 0xd800 && c <= 0xdfff))
      throw new VerificationError("ERR_NOTE_FORMAT", "note contains a control character or invalid UTF-8");
  }
  const split = msg.lastIndexOf("\n\n");
  if (split < 0) throw new VerificationError("ERR_NOTE_FORMAT", "note has no blank line before its signatures");
  const text = msg.slice(0, split + 1);
  const sigs = msg.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith("\n"))
    throw new VerificationError("ERR_NOTE_FORMAT", "note has no signature lines, or they do not end in a newline");
  const lines = sigs.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new VerificationError("ERR_NOTE_FORMAT", `note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map((line, i) => {
    const field = `signature[${i}]`;
    if (!line.startsWith(SIG_PREFIX))
      throw new VerificationError("ERR_NOTE_FORMAT", "signature line must start with an em dash and a space", {
        field,
      });
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(" ");
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? "" : rest.slice(sp + 1);
    if (!isValidKeyName(name) || b64 === "")
      throw new VerificationError("ERR_NOTE_FORMAT", "signature line needs a key name and a signature", { field });
    const raw = strictBase64(b64, field);
    if (raw.length < 5)
      throw new VerificationError("ERR_NOTE_FORMAT", "signature is shorter than key ID + 1 byte", { field });
    return { name, keyId: new DataView(raw.buffer).getUint32(0), signature: raw.slice(4) as Bytes };
  });
  return { text, signatures };
}

/** Formats a note: text (must end in a newline) + blank line + one line per signature. */
export function formatNote(note: Note): string {
  if (!note.text.endsWith("\n"))
    throw new VerificationError("ERR_NOTE_FORMAT", "note text must end with a newline", { field: "text" });
  if (note.signatures.length === 0)
    throw new VerificationError("ERR_NOTE_FORMAT", "a note needs a signature", { field: "signatures" });
  let out = `${note.text}\n`;
  for (const s of note.signatures) {
    if (!isValidKeyName(s.name)) throw new VerificationError("ERR_NOTE_FORMAT", "invalid key name", { field: "name" });
    const raw = new Uint8Array(4 + s.signature.length);
    new DataView(raw.buffer).setUint32(0, s.keyId >>> 0);
    raw.set(s.signature, 4);
    out += `${SIG_PREFIX}${s.name} ${base64Encode(raw)}\n`;
  }
  return out;
}

/** Result of {@link openNote}: the text and which signatures verified. */
export interface OpenedNote {
  text: string;
  verified: NoteSignature[];
  unverified: NoteSignature[];
}

/**
 * Parses and verifies a note against known Ed25519 keys. Signatures of unknown (name, ID) pairs are
 * ignored; a failing signature of a known key rejects the note; so does having no verified signature.
 * Identical repeated lines count once.
 */
export async function openNote(msg: string | Uint8Array, known: readonly NoteVerifierKey[]): Promise<OpenedNote> {
  const note = parseNote(msg);
  const text = utf8Encode(note.text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const s of note.signatures) {
    const key = known.filter((k) => k.name === s.name && k.keyId === s.keyId);
    const tag = `${s.name}+${s.keyId}+${base64Encode(s.signature)}`;
    if (seen.has(tag)) continue;
    seen.add(tag);
    if (key.length === 0) {
      unverified.push(s);
      continue;
    }
    if (key.length > 1) throw new VerificationError("ERR_NOTE_SIGNATURE", `ambiguous key ${s.name}+${hexId(s.keyId)}`);
    if (verified.some((v) => v.name === s.name && v.keyId === s.keyId))
      throw new VerificationError("ERR_NOTE_SIGNATURE", `two different signatures by ${s.name}+${hexId(s.keyId)}`);
    if (!(await verifyEd25519(key[0]!.publicKey, text, s.signature)))
      throw new VerificationError("ERR_NOTE_SIGNATURE", `invalid signature for key ${s.name}+${hexId(s.keyId)}`);
    verified.push(s);
  }
  if (verified.length === 0) throw new VerificationError("ERR_NOTE_SIGNATURE", "note has no verifiable signatures");
  return { text: note.text, verified, unverified };
}

function hexId(id: number): string {
  return id.toString(16).padStart(8, "0");
}

async function verifyEd25519(publicKey: Bytes, message: Bytes, signature: Bytes): Promise<boolean> {
  if (signature.length !== 64) return false;
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}

/** Signs note text with any Ed25519 signer (WebCrypto key, KMS…) and formats the note. */
export async function signNote(
  text: string,
  name: string,
  publicKey: Uint8Array,
  sign: (message: Bytes) => Promise<Uint8Array>,
): Promise<string> {
  const keyId = await ed25519KeyId(name, publicKey);
  const signature = new Uint8Array(await sign(utf8Encode(text))) as Bytes;
  return formatNote({ text, signatures: [{ name, keyId, signature }] });
}
