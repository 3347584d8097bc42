/**
 * Parses an incoming TimeStampReq strictly. Refusals carry the PKIFailureInfo bit RFC 3161 names.
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/** PKIFailureInfo bit numbers (RFC 3161 §2.4.2). */
export const FAIL = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  systemFailure: 25,
} as const;

export class RequestRefused extends Error {
  constructor(
    readonly failBit: number,
    message: string,
  ) {
    super(message);
  }
}

/** Hash algorithms the TSA stamps, with their digest lengths. SHA-1/MD5 and anything else: badAlg. */
const ACCEPTED_HASHES: Record<string, number> = {
  "2.16.840.1.101.3.4.2.1": 32,
  "2.16.840.1.101.3.4.2.2": 48,
  "2.16.840.1.101.3.4.2.3": 64,
};

export interface ParsedRequest {
  /** The imprint's hash OID and digest, echoed in TSTInfo. */
  hashOid: string;
  hashed: Uint8Array;
  nonce?: asn1js.Integer;
  certReq: boolean;
}

export function parseTimestampRequest(der: Uint8Array, policy: string): ParsedRequest {
  const parsed = asn1js.fromBER(new Uint8Array(der));
  if (parsed.offset === -1 || parsed.offset !== der.length)
    throw new RequestRefused(FAIL.badDataFormat, "the request is not a single DER value");
  let req: pkijs.TimeStampReq;
  try {
    req = new pkijs.TimeStampReq({ schema: parsed.result });
  } catch {
    throw new RequestRefused(FAIL.badDataFormat, "the request is not a TimeStampReq");
  }
  if (req.version !== 1)
    throw new RequestRefused(FAIL.badDataFormat, `TimeStampReq version ${req.version}, expected 1`);
  const alg = req.messageImprint.hashAlgorithm;
  const length = ACCEPTED_HASHES[alg.algorithmId];
  if (length === undefined)
    throw new RequestRefused(
      FAIL.badAlg,
      `hash algorithm ${alg.algorithmId} is not accepted (SHA-256, SHA-384, SHA-512 are)`,
    );
  const params = alg.algorithmParams;
  if (params !== undefined && !(params instanceof asn1js.Null))
    throw new RequestRefused(FAIL.badAlg, "hash algorithm parameters must be absent or NULL");
  const hashed = req.messageImprint.hashedMessage.valueBlock.valueHexView;
  if (hashed.length !== length)
    throw new RequestRefused(
      FAIL.badDataFormat,
      `hashedMessage is ${hashed.length} bytes, ${length} expected for ${alg.algorithmId}`,
    );
  if (req.reqPolicy !== undefined && req.reqPolicy !== policy)
    throw new RequestRefused(FAIL.unacceptedPolicy, `policy ${req.reqPolicy} is not offered (${policy} is)`);
  if (req.extensions?.length)
    throw new RequestRefused(FAIL.unacceptedExtension, "request extensions are not supported");
  if (req.nonce && (req.nonce.valueBlock.valueHexView[0] ?? 0) & 0x80) {
    throw new RequestRefused(FAIL.badDataFormat, "the nonce is negative");
  }
  return {
    hashOid: alg.algorithmId,
    hashed: new Uint8Array(hashed),
    ...(req.nonce ? { nonce: req.nonce } : {}),
    certReq: req.certReq ?? false,
  };
}
