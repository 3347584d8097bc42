/**
 * Verifies an RFC 3161 TimeStampToken (RFC 5652 SignedData over TSTInfo) against what was asked
 * (imprint, nonce, policies) and a pinned TSA trust list. Every check is done here with WebCrypto;
 * pkijs only parses (its SignedData.verify would accept a chain without checking EKU/keyUsage).
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import type { Bytes } from "../formats/bytes.js";
import { hexEncode } from "../formats/bytes.js";
import { assertStrictDer } from "./der-strict.js";
import { checkEssBinding } from "./ess.js";
import {
  TimestampMalformedError,
  TimestampMismatchError,
  TimestampSignatureError,
  TimestampUntrustedError,
} from "./errors.js";
import {
  HASHES,
  OID_ATTR_CONTENT_TYPE,
  OID_ATTR_MESSAGE_DIGEST,
  OID_CT_TST_INFO,
  OID_EXT_SKI,
  OID_SHA1,
  OID_SHA256,
  OID_SIGNED_DATA,
} from "./oids.js";
import { digestByOid, own, UnsupportedAlgorithmError, verifySignature } from "./signature.js";
import { checkTsaCertificate, chainToTrustList } from "./tsa-certificate.js";

/** What the token must match. */
export interface TimestampExpectation {
  /** The SHA-256 imprint that was sent. */
  imprint: Uint8Array;
  /** The nonce that was sent (content octets); when given, the token must carry the same. */
  nonce?: Uint8Array;
  /** Pinned TSA trust list: DER certificates (a TSA CA, or the TSA certificate itself). */
  trusted: readonly Uint8Array[];
  /** When given, the token's TSAPolicyId must be one of these. */
  acceptedPolicies?: readonly string[];
}

/** A token that passed every check. */
export interface VerifiedTimestamp {
  genTime: Date;
  /** TSTInfo serialNumber, lowercase hex of its content octets. */
  serialNumber: string;
  policy: string;
  /** TSTInfo accuracy in milliseconds, when the TSA states one. */
  accuracyMs?: number;
  /** DER of the certificate that signed the token. */
  signer: Bytes;
  /** DER of the path, signer first, pinned certificate last. */
  path: Bytes[];
}

function malformed(message: string, field = "timeStampToken"): never {
  throw new TimestampMalformedError(message, { field });
}

/** Strict DER parse: lengths definite, minimal and exactly nested (der-strict.ts); trailing bytes are refused. */
export function parseDer(der: Uint8Array, field: string): asn1js.AsnType {
  assertStrictDer(der, field);
  const parsed = asn1js.fromBER(own(der));
  if (parsed.offset === -1 || parsed.offset !== der.length) malformed(`${field} is not a single DER value`, field);
  return parsed.result;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function integerContent(int: asn1js.Integer): Uint8Array {
  let v = int.valueBlock.valueHexView;
  while (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) v = v.subarray(1);
  return v;
}

function certDer(c: pkijs.Certificate): Bytes {
  return new Uint8Array(c.toSchema().toBER()) as Bytes;
}

function findSigner(sid: unknown, candidates: readonly pkijs.Certificate[]): pkijs.Certificate | undefined {
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return candidates.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
  }
  // [0] SubjectKeyIdentifier
  const ski = sid instanceof asn1js.Constructed ? sid.valueBlock.value[0] : sid;
  if (ski instanceof asn1js.BaseBlock && "valueHexView" in ski.valueBlock) {
    const want = (ski.valueBlock as { valueHexView: Uint8Array }).valueHexView;
    return candidates.find((c) => {
      const ext = c.extensions?.find((e) => e.extnID === OID_EXT_SKI);
      return ext?.parsedValue instanceof asn1js.OctetString && sameBytes(ext.parsedValue.valueBlock.valueHexView, want);
    });
  }
  return undefined;
}

function onlyAttribute(attrs: readonly pkijs.Attribute[], oid: string, name: string): asn1js.AsnType {
  const found = attrs.filter((a) => a.type === oid);
  if (found.length !== 1 || found[0]!.values.length !== 1)
    throw new TimestampSignatureError(`the token must carry exactly one ${name} signed attribute`, { field: name });
  return found[0]!.values[0]!;
}

/** AlgorithmIdentifier parameters of SHA-2 digests and RSA PKCS#1 v1.5 / ECDSA signatures: absent or NULL (RFC 5754, RFC 4055). */
function plainParameters(alg: pkijs.AlgorithmIdentifier): boolean {
  const p = alg.algorithmParams;
  return p === undefined || p instanceof asn1js.Null;
}

/**
 * RFC 5652 fields no signature covers, pinned so they cannot vary unnoticed: SignedData version 3
 * (eContentType is not id-data), SignerInfo version 1 with issuerAndSerialNumber or 3 with a
 * subjectKeyIdentifier, the signer's digest algorithm listed in digestAlgorithms, parameters plain.
 */
function checkCmsVersions(signedData: pkijs.SignedData, signerInfo: pkijs.SignerInfo): void {
  if (signedData.version !== 3)
    throw new TimestampMalformedError(`SignedData version ${signedData.version}, expected 3`, {
      field: "signedData.version",
    });
  const expected = signerInfo.sid instanceof pkijs.IssuerAndSerialNumber ? 1 : 3;
  if (signerInfo.version !== expected)
    throw new TimestampMalformedError(`SignerInfo version ${signerInfo.version}, expected ${expected} for its sid`, {
      field: "signerInfo.version",
    });
  const digestOid = signerInfo.digestAlgorithm.algorithmId;
  if (!signedData.digestAlgorithms.some((a) => a.algorithmId === digestOid))
    throw new TimestampMalformedError("digestAlgorithms does not list the signer's digest algorithm", {
      field: "digestAlgorithms",
    });
  if (
    ![...signedData.digestAlgorithms, signerInfo.digestAlgorithm, signerInfo.signatureAlgorithm].every(plainParameters)
  ) {
    throw new TimestampMalformedError("an algorithm identifier carries parameters other than NULL", {
      field: "algorithmParameters",
    });
  }
}

/** Verifies DER `TimeStampToken` (a ContentInfo). Throws a typed error naming the first check that failed. */
export async function verifyTimestampToken(
  tokenDer: Uint8Array,
  expect: TimestampExpectation,
): Promise<VerifiedTimestamp> {
  if (expect.imprint.length !== 32) malformed("expected imprint must be 32 bytes (SHA-256)", "imprint");
  let signedData: pkijs.SignedData;
  let tst: pkijs.TSTInfo;
  let eContent: Uint8Array;
  let trusted: pkijs.Certificate[];
  try {
    const contentInfo = new pkijs.ContentInfo({ schema: parseDer(tokenDer, "timeStampToken") });
    if (contentInfo.contentType !== OID_SIGNED_DATA) malformed("timeStampToken is not SignedData");
    signedData = new pkijs.SignedData({ schema: contentInfo.content });
    if (signedData.encapContentInfo.eContentType !== OID_CT_TST_INFO) malformed("eContentType is not id-ct-TSTInfo");
    const octets = signedData.encapContentInfo.eContent;
    // pkijs takes any tag here; RFC 5652 eContent is a universal OCTET STRING.
    if (!octets || octets.valueBlock.isConstructed || octets.idBlock.tagClass !== 1 || octets.idBlock.tagNumber !== 4)
      malformed("eContent must be a primitive OCTET STRING");
    eContent = own(octets.valueBlock.valueHexView);
    tst = new pkijs.TSTInfo({ schema: parseDer(eContent, "tstInfo") });
    trusted = expect.trusted.map((d, i) => new pkijs.Certificate({ schema: parseDer(d, `trusted[${i}]`) }));
  } catch (err) {
    if (err instanceof TimestampMalformedError) throw err;
    malformed(`timeStampToken does not parse: ${(err as Error).message}`);
  }
  if (tst.version !== 1) malformed(`TSTInfo version ${tst.version}, expected 1`, "tstInfo");

  // What was asked: imprint, nonce, policy.
  if (tst.messageImprint.hashAlgorithm.algorithmId !== OID_SHA256)
    throw new TimestampMismatchError("the token's imprint is not SHA-256", { field: "messageImprint" });
  if (!sameBytes(tst.messageImprint.hashedMessage.valueBlock.valueHexView, expect.imprint))
    throw new TimestampMismatchError("the token's imprint is not the one asked for", { field: "messageImprint" });
  if (expect.nonce) {
    if (!tst.nonce || !sameBytes(integerContent(tst.nonce), expect.nonce))
      throw new TimestampMismatchError("the token's nonce is not the one sent", { field: "nonce" });
  }
  if (expect.acceptedPolicies && !expect.acceptedPolicies.includes(tst.policy))
    throw new TimestampMismatchError(`TSA policy ${tst.policy} is not accepted`, { field: "policy" });

  // CMS: one signer, signed attributes binding content type, content digest and signer certificate.
  if (signedData.signerInfos.length !== 1)
    throw new TimestampSignatureError(`the token has ${signedData.signerInfos.length} signers, expected 1`, {
      field: "signerInfos",
    });
  const signerInfo = signedData.signerInfos[0]!;
  checkCmsVersions(signedData, signerInfo);
  const attrs = signerInfo.signedAttrs?.attributes;
  if (!attrs || !signerInfo.signedAttrs)
    throw new TimestampSignatureError("the token has no signed attributes", { field: "signedAttrs" });
  const contentType = onlyAttribute(attrs, OID_ATTR_CONTENT_TYPE, "contentType");
  if (!(contentType instanceof asn1js.ObjectIdentifier) || contentType.valueBlock.toString() !== OID_CT_TST_INFO) {
    throw new TimestampSignatureError("the contentType signed attribute is not id-ct-TSTInfo", {
      field: "contentType",
    });
  }
  const digestOid = signerInfo.digestAlgorithm.algorithmId;
  if (!HASHES[digestOid] || digestOid === OID_SHA1)
    throw new TimestampSignatureError(`digest algorithm ${digestOid} is not accepted`, { field: "digestAlgorithm" });
  const messageDigest = onlyAttribute(attrs, OID_ATTR_MESSAGE_DIGEST, "messageDigest");
  if (
    !(messageDigest instanceof asn1js.OctetString) ||
    !sameBytes(messageDigest.valueBlock.valueHexView, await digestByOid(digestOid, eContent))
  ) {
    throw new TimestampSignatureError("the messageDigest signed attribute does not match TSTInfo", {
      field: "messageDigest",
    });
  }

  const pool = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const signer = findSigner(signerInfo.sid, [...pool, ...trusted]);
  if (!signer)
    throw new TimestampUntrustedError("the token's signer certificate is neither in the token nor in the trust list", {
      field: "sid",
    });
  await checkEssBinding(attrs, signer);

  let ok: boolean;
  try {
    ok = await verifySignature(
      signer.subjectPublicKeyInfo,
      signerInfo.signatureAlgorithm.algorithmId,
      digestOid,
      own(signerInfo.signedAttrs.encodedValue),
      own(signerInfo.signature.valueBlock.valueHexView),
    );
  } catch (err) {
    if (err instanceof UnsupportedAlgorithmError)
      throw new TimestampSignatureError(err.message, { field: "signatureAlgorithm" });
    throw err;
  }
  if (!ok) throw new TimestampSignatureError("the token's CMS signature does not verify", { field: "signature" });

  // The signer must be a TSA certificate chaining to the pinned list, valid at genTime.
  const genTime = tst.genTime;
  checkTsaCertificate(signer, genTime);
  const path = await chainToTrustList(signer, pool, trusted, genTime);

  const result: VerifiedTimestamp = {
    genTime,
    serialNumber: hexEncode(tst.serialNumber.valueBlock.valueHexView),
    policy: tst.policy,
    signer: certDer(signer),
    path: path.map(certDer),
  };
  if (tst.accuracy)
    result.accuracyMs =
      (tst.accuracy.seconds ?? 0) * 1000 + (tst.accuracy.millis ?? 0) + (tst.accuracy.micros ?? 0) / 1000;
  return result;
}
