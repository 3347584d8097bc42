import { constants, privateEncrypt, publicDecrypt, timingSafeEqual, type KeyObject } from "node:crypto";
import type { HashName } from "../key-specs.js";
import { emsaPssEncode, emsaPssVerify } from "./emsa-pss.js";

/** DER prefixes of the PKCS#1 v1.5 DigestInfo structure (RFC 8017 §9.2 note 1). */
const DIGEST_INFO_PREFIX: Record<HashName, Buffer> = {
  sha256: Buffer.from("3031300d060960864801650304020105000420", "hex"),
  sha384: Buffer.from("3041300d060960864801650304020205000430", "hex"),
  sha512: Buffer.from("3051300d060960864801650304020305000440", "hex"),
};

function modulusBits(key: KeyObject): number {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (!bits) throw new Error("not an RSA key");
  return bits;
}

export function rsaPssSignDigest(privateKey: KeyObject, hash: HashName, digest: Buffer): Buffer {
  const em = emsaPssEncode(hash, digest, modulusBits(privateKey));
  return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, em);
}

export function rsaPssVerifyDigest(publicKey: KeyObject, hash: HashName, digest: Buffer, signature: Buffer): boolean {
  const bits = modulusBits(publicKey);
  if (signature.length !== Math.ceil(bits / 8)) return false;
  let decoded: Buffer;
  try {
    decoded = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false; // e.g. signature representative >= modulus
  }
  return emsaPssVerify(hash, digest, decoded, bits);
}

export function rsaPkcs1SignDigest(privateKey: KeyObject, hash: HashName, digest: Buffer): Buffer {
  const digestInfo = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
}

export function rsaPkcs1VerifyDigest(publicKey: KeyObject, hash: HashName, digest: Buffer, signature: Buffer): boolean {
  if (signature.length !== Math.ceil(modulusBits(publicKey) / 8)) return false;
  let recovered: Buffer;
  try {
    recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
  const expected = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
  return recovered.length === expected.length && timingSafeEqual(recovered, expected);
}
