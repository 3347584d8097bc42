/** SIGNED{} structures (certificates, CRLs): splitting one without re-encoding, and checking its signature. */
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { bytesEqual } from "./bytes.js";

/** AlgorithmIdentifier DER: SEQUENCE { 1.2.840.113549.1.1.11, NULL } */
export const SHA256_WITH_RSA_ALG_ID = new Uint8Array(Buffer.from("300d06092a864886f70d01010b0500", "hex"));

/** Splits a DER SIGNED{} structure (SEQUENCE { tbs, algId, BIT STRING sig }) without re-encoding. */
export function splitSigned(der: Uint8Array): { tbs: Uint8Array; alg: Uint8Array; sig: Uint8Array } {
  const readTlv = (buf: Uint8Array, off: number): { tag: number; start: number; end: number; hdrStart: number } => {
    const tag = buf[off]!;
    let len = buf[off + 1]!;
    let p = off + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    }
    return { tag, start: p, end: p + len, hdrStart: off };
  };
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.start);
  const alg = readTlv(der, tbs.end);
  const bits = readTlv(der, alg.end);
  if (outer.tag !== 0x30 || tbs.tag !== 0x30 || alg.tag !== 0x30 || bits.tag !== 0x03 || der[bits.start] !== 0)
    throw new Error("not a SIGNED structure");
  if (outer.end !== der.length || bits.end !== outer.end) throw new Error("trailing bytes");
  return {
    tbs: der.subarray(tbs.hdrStart, tbs.end),
    alg: der.subarray(alg.hdrStart, alg.end),
    sig: der.subarray(bits.start + 1, bits.end),
  };
}

/** Verifies a SIGNED{} structure (certificate or CRL) over its exact TBS bytes with Node (OpenSSL): sha256WithRSAEncryption. */
export function signatureVerifies(der: Uint8Array, issuerSpki: Uint8Array): boolean {
  try {
    const { tbs, alg, sig } = splitSigned(der);
    if (!bytesEqual(alg, SHA256_WITH_RSA_ALG_ID)) return false;
    return nodeVerify(
      "sha256",
      tbs,
      createPublicKey({ key: Buffer.from(issuerSpki), format: "der", type: "spki" }),
      sig,
    );
  } catch {
    return false;
  }
}
