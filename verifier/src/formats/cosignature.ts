/**
 * C2SP tlog-cosignature (c2sp.org/tlog-cosignature), the Ed25519 `cosignature/v1` type: key IDs with
 * algorithm byte 0x04, cosigner vkeys, the signed message and timestamped signature lines.
 */
import type { Bytes } from "./bytes.js";
import { base64Encode, utf8Encode } from "./bytes.js";
import { VerificationError } from "./errors.js";
import {
  formatTypedVerifierKey,
  isValidKeyName,
  keyIdFor,
  parseTypedVerifierKey,
  type NoteSignature,
  type NoteVerifierKey,
} from "./note.js";

/** Signature-type byte of Ed25519 cosignatures (in key IDs and vkeys). */
export const COSIGNATURE_V1_TYPE = 0x04;
/** Largest timestamp the spec allows (2^63 − 1), capped here to what a JS number holds exactly. */
const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;

/** A verified or parsed cosignature: who, which key, and the time it states. */
export interface Cosignature {
  name: string;
  keyId: number;
  /** POSIX seconds. */
  timestamp: number;
  /** The 64-byte Ed25519 signature. */
  signature: Bytes;
}

/** key ID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte key)[:4], big-endian. */
export function cosignatureKeyId(name: string, publicKey: Uint8Array): Promise<number> {
  return keyIdFor(name, COSIGNATURE_V1_TYPE, publicKey);
}

/** Formats a cosigner verifier key `<name>+<hex id>+base64(0x04 ‖ key)`. */
export function formatCosignerVerifierKey(name: string, publicKey: Uint8Array): Promise<string> {
  return formatTypedVerifierKey(name, COSIGNATURE_V1_TYPE, publicKey);
}

/** Parses a cosigner verifier key (type 0x04 only); rejects wrong lengths and an ID that is not the key's. */
export function parseCosignerVerifierKey(vkey: string): Promise<NoteVerifierKey> {
  return parseTypedVerifierKey(vkey, COSIGNATURE_V1_TYPE, "Ed25519 cosigner");
}

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP)
    throw new VerificationError("ERR_NOTE_FORMAT", "timestamp must be a non-negative integer", { field: "timestamp" });
}

/** The signed message: `cosignature/v1\ntime <ts>\n` followed by the checkpoint's note text (with its final newline). */
export function cosignatureMessage(checkpointText: string, timestamp: number): Bytes {
  checkTimestamp(timestamp);
  if (!checkpointText.endsWith("\n"))
    throw new VerificationError("ERR_NOTE_FORMAT", "checkpoint text must end with a newline", { field: "text" });
  return utf8Encode(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`);
}

/** Splits a note signature's bytes after the key ID into (u64 big-endian timestamp, 64-byte signature). */
export function parseCosignature(sig: NoteSignature): Cosignature {
  if (sig.signature.length !== 8 + 64)
    throw new VerificationError("ERR_NOTE_FORMAT", "an Ed25519 cosignature is 8 timestamp bytes + 64 signature bytes", {
      field: "signature",
    });
  const ts = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8).getBigUint64(0);
  if (ts > BigInt(MAX_TIMESTAMP))
    throw new VerificationError("ERR_NOTE_FORMAT", "cosignature timestamp is out of range", { field: "timestamp" });
  return { name: sig.name, keyId: sig.keyId, timestamp: Number(ts), signature: sig.signature.slice(8) as Bytes };
}

/** Formats one cosignature as a note signature line `— <name> base64(id ‖ ts ‖ sig)\n`. */
export function formatCosignatureLine(c: Cosignature): string {
  checkTimestamp(c.timestamp);
  if (!isValidKeyName(c.name)) throw new VerificationError("ERR_NOTE_FORMAT", "invalid key name", { field: "name" });
  if (c.signature.length !== 64)
    throw new VerificationError("ERR_NOTE_FORMAT", "Ed25519 signature must be 64 bytes", { field: "signature" });
  const raw = new Uint8Array(4 + 8 + 64);
  const view = new DataView(raw.buffer);
  view.setUint32(0, c.keyId >>> 0);
  view.setBigUint64(4, BigInt(c.timestamp));
  raw.set(c.signature, 12);
  return `\u2014 ${c.name} ${base64Encode(raw)}\n`;
}

/** Cosigns checkpoint text with any Ed25519 signer (WebCrypto key, KMS…); returns the signature line. */
export async function signCosignature(
  checkpointText: string,
  name: string,
  publicKey: Uint8Array,
  timestamp: number,
  sign: (message: Bytes) => Promise<Uint8Array>,
): Promise<string> {
  const keyId = await cosignatureKeyId(name, publicKey);
  const signature = new Uint8Array(await sign(cosignatureMessage(checkpointText, timestamp))) as Bytes;
  return formatCosignatureLine({ name, keyId, timestamp, signature });
}

/**
 * Verifies the cosignatures among a note's signatures against known cosigner keys (from
 * {@link parseCosignerVerifierKey}). Lines of unknown (name, ID) pairs are ignored, as the spec requires;
 * a known key's line that does not verify throws NoteSignatureError. Returns the verified ones (maybe none).
 */
export async function verifyCosignatures(
  checkpointText: string,
  signatures: readonly NoteSignature[],
  known: readonly NoteVerifierKey[],
): Promise<Cosignature[]> {
  const out: Cosignature[] = [];
  for (const s of signatures) {
    const key = known.find((k) => k.name === s.name && k.keyId === s.keyId);
    if (!key) continue;
    let c: Cosignature;
    try {
      c = parseCosignature(s);
    } catch (e) {
      throw new VerificationError("ERR_NOTE_SIGNATURE", `malformed cosignature by ${s.name}: ${(e as Error).message}`);
    }
    if (!(await verifyEd25519(key.publicKey, cosignatureMessage(checkpointText, c.timestamp), c.signature))) {
      throw new VerificationError(
        "ERR_NOTE_SIGNATURE",
        `invalid cosignature for key ${s.name}+${s.keyId.toString(16).padStart(8, "0")}`,
      );
    }
    out.push(c);
  }
  return out;
}

async function verifyEd25519(publicKey: Bytes, message: Bytes, signature: Bytes): Promise<boolean> {
  try {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  } catch {
    return false;
  }
}
