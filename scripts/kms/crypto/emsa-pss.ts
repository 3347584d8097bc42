import { hash as cryptoHash, timingSafeEqual } from "node:crypto";
import type { HashName } from "../key-specs.js";
import { randomInto } from "./random-pool.js";

/**
 * EMSA-PSS encoding and verification (RFC 8017 §9.1) over a pre-computed digest.
 * Node's crypto only signs whole messages with PSS; KMS also signs digests (MessageType DIGEST),
 * so we build the encoded message ourselves and apply the raw RSA operation.
 * The salt length equals the digest length, as in AWS KMS.
 *
 * This runs once per Sign, so it avoids allocating: a Buffer with its own ArrayBuffer costs
 * ≈ 1.5–2.5 µs (Buffer.alloc, crypto.hash(..., "buffer")), while hex digests written into a
 * pooled Buffer cost a fraction of that.
 */

/** Writes MGF1(seed) (RFC 8017 §B.2.1) into out[start, start + length). */
function mgf1Into(hash: HashName, seed: Uint8Array, out: Buffer, start: number, length: number): void {
  const input = Buffer.allocUnsafe(seed.length + 4); // seed || 32-bit big-endian counter
  input.set(seed);
  for (let counter = 0, filled = 0; filled < length; counter++) {
    input.writeUInt32BE(counter, seed.length);
    filled += out.write(cryptoHash(hash, input, "hex"), start + filled, length - filled, "hex");
  }
}

/** H = Hash(0x00 × 8 || mHash || salt), as a hex string. */
function hPrimeHex(hash: HashName, digest: Uint8Array, salt: Uint8Array): string {
  const mPrime = Buffer.alloc(8 + digest.length + salt.length);
  mPrime.set(digest, 8);
  mPrime.set(salt, 8 + digest.length);
  return cryptoHash(hash, mPrime, "hex");
}

/** Returns EM left-padded with zeros to the modulus length, ready for the raw RSA private operation. */
export function emsaPssEncode(hash: HashName, digest: Buffer, modulusBits: number): Buffer {
  const hLen = digest.length;
  const sLen = hLen;
  const emBits = modulusBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < hLen + sLen + 2) throw new Error("modulus too small for PSS with this hash");

  const salt = Buffer.allocUnsafe(sLen);
  randomInto(salt, 0, sLen);
  // EM = maskedDB || H || 0xbc, after k - emLen leading zero bytes. Every byte is written below.
  const k = Math.ceil(modulusBits / 8);
  const em = Buffer.allocUnsafe(k);
  const offset = k - emLen;
  const dbLen = emLen - hLen - 1;
  const hStart = offset + dbLen;
  em.fill(0, 0, offset);
  em.write(hPrimeHex(hash, digest, salt), hStart, hLen, "hex");
  // DB = PS (zeros) || 0x01 || salt, so maskedDB = MGF1(H) except where 0x01 and the salt go.
  mgf1Into(hash, em.subarray(hStart, hStart + hLen), em, offset, dbLen);
  const saltStart = hStart - sLen;
  em[saltStart - 1]! ^= 0x01;
  for (let i = 0; i < sLen; i++) em[saltStart + i]! ^= salt[i]!;
  em[offset]! &= 0xff >> (8 * emLen - emBits);
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

  const db = Buffer.alloc(maskedDb.length);
  mgf1Into(hash, h, db, 0, db.length);
  for (let i = 0; i < db.length; i++) db[i]! ^= maskedDb[i]!;
  db[0]! &= topMask;
  const psEnd = emLen - hLen - sLen - 2;
  for (let i = 0; i < psEnd; i++) if (db[i] !== 0) return false;
  if (db[psEnd] !== 0x01) return false;
  const salt = db.subarray(db.length - sLen);
  return timingSafeEqual(Buffer.from(hPrimeHex(hash, digest, salt), "hex"), h);
}
