/**
 * WebCrypto verification of the signatures a timestamp carries (CMS SignerInfo, X.509 certificates).
 * Only RSASSA-PKCS1-v1_5 and ECDSA (P-256/P-384) with SHA-2: anything else is refused, not guessed.
 */
import * as asn1js from "asn1js";
import type * as pkijs from "pkijs";
import type { Bytes } from "../formats/bytes.js";
import {
  HASHES,
  OID_EC_PUBLIC_KEY,
  OID_ECDSA_SHA256,
  OID_ECDSA_SHA384,
  OID_P256,
  OID_P384,
  OID_RSA_ENCRYPTION,
  OID_SHA256,
  OID_SHA256_WITH_RSA,
  OID_SHA384,
  OID_SHA384_WITH_RSA,
  OID_SHA512,
  OID_SHA512_WITH_RSA,
} from "./oids.js";

const RSA_SIG_HASH: Record<string, string> = {
  [OID_SHA256_WITH_RSA]: OID_SHA256,
  [OID_SHA384_WITH_RSA]: OID_SHA384,
  [OID_SHA512_WITH_RSA]: OID_SHA512,
};
const ECDSA_SIG_HASH: Record<string, string> = { [OID_ECDSA_SHA256]: OID_SHA256, [OID_ECDSA_SHA384]: OID_SHA384 };
const CURVES: Record<string, { name: string; size: number }> = {
  [OID_P256]: { name: "P-256", size: 32 },
  [OID_P384]: { name: "P-384", size: 48 },
};

/** Thrown for an algorithm outside the accepted set; callers map it to their own error. */
export class UnsupportedAlgorithmError extends Error {}

/** Copies a view into a fresh ArrayBuffer-backed array (WebCrypto wants `BufferSource` over ArrayBuffer). */
export function own(view: Uint8Array | ArrayBuffer): Bytes {
  return new Uint8Array(view instanceof ArrayBuffer ? view.slice(0) : view) as Bytes;
}

/** Digest with a hash named by OID. */
export async function digestByOid(hashOid: string, data: Uint8Array): Promise<Bytes> {
  const h = HASHES[hashOid];
  if (!h) throw new UnsupportedAlgorithmError(`hash algorithm ${hashOid} is not supported`);
  return new Uint8Array(await crypto.subtle.digest(h.name, own(data))) as Bytes;
}

/** DER ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } → r||s of fixed size (WebCrypto's form). */
function ecdsaDerToRaw(der: Uint8Array, size: number): Bytes | undefined {
  const parsed = asn1js.fromBER(own(der));
  if (parsed.offset !== der.length || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  const parts = parsed.result.valueBlock.value;
  if (parts.length !== 2 || !parts.every((p) => p instanceof asn1js.Integer)) return undefined;
  const out = new Uint8Array(size * 2);
  for (let i = 0; i < 2; i++) {
    let v = (parts[i] as asn1js.Integer).valueBlock.valueHexView;
    while (v.length > 1 && v[0] === 0) v = v.subarray(1);
    if (v.length > size) return undefined;
    out.set(v, i * size + size - v.length);
  }
  return out as Bytes;
}

/**
 * Verifies `signature` over `data` with the key in `spki`. `signatureOid` names the algorithm;
 * for CMS's bare rsaEncryption the hash comes from `digestOid` (RFC 5754 §3.2).
 */
export async function verifySignature(
  spki: pkijs.PublicKeyInfo,
  signatureOid: string,
  digestOid: string | undefined,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  const keyOid = spki.algorithm.algorithmId;
  const spkiDer = own(spki.toSchema().toBER());
  if (keyOid === OID_RSA_ENCRYPTION) {
    const hashOid = signatureOid === OID_RSA_ENCRYPTION ? digestOid : RSA_SIG_HASH[signatureOid];
    if (!hashOid || ![OID_SHA256, OID_SHA384, OID_SHA512].includes(hashOid)) {
      throw new UnsupportedAlgorithmError(
        `signature algorithm ${signatureOid} (digest ${digestOid ?? "-"}) is not supported for RSA`,
      );
    }
    const key = await crypto.subtle.importKey(
      "spki",
      spkiDer,
      { name: "RSASSA-PKCS1-v1_5", hash: HASHES[hashOid]!.name },
      false,
      ["verify"],
    );
    return crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, own(signature), own(data));
  }
  if (keyOid === OID_EC_PUBLIC_KEY) {
    const hashOid = ECDSA_SIG_HASH[signatureOid];
    const params = spki.algorithm.algorithmParams;
    const curve = params instanceof asn1js.ObjectIdentifier ? CURVES[params.valueBlock.toString()] : undefined;
    if (!hashOid || !curve)
      throw new UnsupportedAlgorithmError(`signature algorithm ${signatureOid} is not supported for this EC key`);
    const raw = ecdsaDerToRaw(signature, curve.size);
    if (!raw) return false;
    const key = await crypto.subtle.importKey("spki", spkiDer, { name: "ECDSA", namedCurve: curve.name }, false, [
      "verify",
    ]);
    return crypto.subtle.verify({ name: "ECDSA", hash: HASHES[hashOid]!.name }, key, raw, own(data));
  }
  throw new UnsupportedAlgorithmError(`public key algorithm ${keyOid} is not supported`);
}
