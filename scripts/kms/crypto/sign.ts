import { createHash, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from "node:crypto";
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from "../key-specs.js";
import { ecdsaP256SignDigest, ecdsaP256VerifyDigest } from "./ecdsa-p256.js";
import { ed25519phSign, ed25519phVerify, ed25519RawPublicKey } from "./ed25519ph.js";
import { rsaPkcs1SignDigest, rsaPkcs1VerifyDigest, rsaPssSignDigest, rsaPssVerifyDigest } from "./rsa.js";

/**
 * Pure signing primitives, run inside the worker pool. Inputs are already validated
 * (algorithm fits the key, digest length fits the algorithm, message size).
 */
export type MessageType = "RAW" | "DIGEST";

export function signMessage(
  privateKey: KeyObject,
  algorithm: SigningAlgorithm,
  messageType: MessageType,
  message: Buffer,
): Buffer {
  const { scheme, hash } = SIGNING_ALGORITHMS[algorithm];
  if (scheme === "ed25519") return nodeSign(null, message, privateKey); // RFC 8032 pure: 64 raw bytes
  // KMS takes a 64-byte DIGEST and still prehashes it (SHA-512): that digest is Ed25519ph's message.
  if (scheme === "ed25519ph") return ed25519phSign(privateKey, message);
  if (scheme === "ecdsa" && messageType === "RAW") {
    return nodeSign(hash, message, { key: privateKey, dsaEncoding: "der" });
  }
  const digest = messageType === "RAW" ? createHash(hash).update(message).digest() : message;
  switch (scheme) {
    case "pss":
      return rsaPssSignDigest(privateKey, hash, digest);
    case "pkcs1":
      return rsaPkcs1SignDigest(privateKey, hash, digest);
    case "ecdsa":
      return ecdsaP256SignDigest(privateKey, digest);
  }
}

export function verifyMessage(
  publicKey: KeyObject,
  algorithm: SigningAlgorithm,
  messageType: MessageType,
  message: Buffer,
  signature: Buffer,
): boolean {
  const { scheme, hash } = SIGNING_ALGORITHMS[algorithm];
  if (scheme === "ed25519") {
    try {
      return signature.length === 64 && nodeVerify(null, message, publicKey, signature);
    } catch {
      return false;
    }
  }
  if (scheme === "ed25519ph") return ed25519phVerify(ed25519RawPublicKey(publicKey), message, signature);
  if (scheme === "ecdsa" && messageType === "RAW") {
    try {
      return nodeVerify(hash, message, { key: publicKey, dsaEncoding: "der" }, signature);
    } catch {
      return false; // malformed DER signature
    }
  }
  const digest = messageType === "RAW" ? createHash(hash).update(message).digest() : message;
  switch (scheme) {
    case "pss":
      return rsaPssVerifyDigest(publicKey, hash, digest, signature);
    case "pkcs1":
      return rsaPkcs1VerifyDigest(publicKey, hash, digest, signature);
    case "ecdsa":
      return ecdsaP256VerifyDigest(publicKey, digest, signature);
  }
}

export const publicKeyOf = (privateKey: KeyObject): KeyObject => createPublicKey(privateKey);
