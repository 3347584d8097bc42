import { createHash, hash as cryptoHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { HashName } from "../key-specs.js";

/**
 * EMSA-PSS encoding and verification (RFC 8017 §9.1) over a pre-computed digest.
 * Node's crypto only signs whole messages with PSS; KMS also signs digests (MessageType DIGEST),
 * so we build the encoded message ourselves and apply the raw RSA operation.
 * The salt length equals the digest length, as in AWS KMS.
 */

function mgf1(hash: HashName, seed: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length);
  const input = Buffer.alloc(seed.length + 4); // seed || 32-bit big-endian counter
  seed.copy(input);
  let filled = 0;
  for (let i = 0; filled < length; i++) {
    input.writeUInt32BE(i, seed.length);
    filled += oneShot(hash, input).copy(out, filled);
  }
  return out;
}

/** One-shot digest (crypto.hash, Node ≥ 20.12: no Hash object per block). */
const oneShot = (hash: HashName, data: Buffer): Buffer => cryptoHash(hash, data, "buffer") as Buffer;

function hPrime(hash: HashName, digest: Buffer, salt: Buffer): Buffer {
  return createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
}

/** Returns EM left-padded with zeros to the modulus length, ready for the raw RSA private operation. */
export function emsaPssEncode(hash: HashName, digest: Buffer, modulusBits: number): Buffer {
  const hLen = digest.length;
  const sLen = hLen;
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new Error("modulus too small for PSS with this hash");

  const salt = randomBytes(sLen);
  const h = hPrime(hash, digest, salt);
  const db = Buffer.alloc(emLen - hLen - 1); // PS (zeros) || 0x01 || salt
  db[db.length - sLen - 1] = 0x01;
  salt.copy(db, db.length - sLen);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!;
  db[0]! &= 0xff >> (8 * emLen - emBits);

  const k = Math.ceil(modulusBits / 8);
  const em = Buffer.alloc(k);
  const offset = k - emLen;
  db.copy(em, offset);
  h.copy(em, offset + db.length);
  em[k - 1] = 0xbc;
  return em;
}

/** Checks a decoded signature representative (k bytes) against the digest. */
export function emsaPssVerify(hash: HashName, digest: Buffer, decoded: Buffer, modulusBits: number): boolean {
  const hLen = digest.length;
  const sLen = hLen;
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  const k = Math.ceil(modulusBits / 8);
  if (decoded.length !== k || emLen < hLen + sLen + 2) return false;
  for (let i = 0; i < k - emLen; i++) if (decoded[i] !== 0) return false;
  const em = decoded.subarray(k - emLen);
  if (em[emLen - 1] !== 0xbc) return false;

  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if ((maskedDb[0]! & ~topMask) !== 0) return false;

  const db = mgf1(hash, Buffer.from(h), maskedDb.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!;
  db[0]! &= topMask;
  const psEnd = emLen - hLen - sLen - 2;
  for (let i = 0; i < psEnd; i++) if (db[i] !== 0) return false;
  if (db[psEnd] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  return timingSafeEqual(hPrime(hash, digest, salt), h);
}
