/** Real Ed25519 keys (WebCrypto) for witness tests: a log key that signs checkpoint notes, and cosigner keys. */
import {
  formatCosignerVerifierKey,
  formatVerifierKey,
  parseCosignerVerifierKey,
  parseVerifierKey,
  signCosignature,
  signNote,
  type NoteVerifierKey,
} from "../../verifier/src/formats/index.js";

/** An Ed25519 key pair with its raw 32-byte public key. */
export interface Ed25519Pair {
  publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** A fresh WebCrypto Ed25519 key pair. */
export async function ed25519Pair(): Promise<Ed25519Pair> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  return {
    publicKey,
    sign: async (m) =>
      new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, m as Uint8Array<ArrayBuffer>)),
  };
}

/** A log signing key named after its origin. */
export interface LogKey {
  name: string;
  vkey: string;
  key: NoteVerifierKey;
  pair: Ed25519Pair;
  /** Signs checkpoint text into a one-signature note. */
  signNote(text: string): Promise<string>;
}

export async function logKey(name: string, pair?: Ed25519Pair): Promise<LogKey> {
  const p = pair ?? (await ed25519Pair());
  const vkey = await formatVerifierKey(name, p.publicKey);
  return {
    name,
    vkey,
    key: await parseVerifierKey(vkey),
    pair: p,
    signNote: (text) => signNote(text, name, p.publicKey, p.sign),
  };
}

/** A cosigner (witness) key. */
export interface CosignerKey {
  name: string;
  vkey: string;
  key: NoteVerifierKey;
  pair: Ed25519Pair;
  /** A cosignature/v1 line over checkpoint text at `timestamp` (default: now). */
  cosign(text: string, timestamp?: number): Promise<string>;
}

export async function cosignerKey(name: string, pair?: Ed25519Pair): Promise<CosignerKey> {
  const p = pair ?? (await ed25519Pair());
  const vkey = await formatCosignerVerifierKey(name, p.publicKey);
  return {
    name,
    vkey,
    key: await parseCosignerVerifierKey(vkey),
    pair: p,
    cosign: (text, timestamp = Math.floor(Date.now() / 1000)) =>
      signCosignature(text, name, p.publicKey, timestamp, p.sign),
  };
}
