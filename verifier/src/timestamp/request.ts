/**
 * Builds an RFC 3161 TimeStampReq for a SHA-256 message imprint, with a random nonce and certReq.
 */
import * as asn1js from "asn1js";
import type { Bytes } from "../formats/bytes.js";
import { malformed } from "../errors.js";
import { OID_SHA256 } from "./oids.js";

/** A request ready to POST (`application/timestamp-query`), with what the reply must echo. */
export interface TimestampRequest {
  /** DER of the TimeStampReq. */
  der: Bytes;
  /** The nonce's INTEGER content octets (minimal, positive); the reply's TSTInfo must carry the same. */
  nonce: Bytes;
  /** The SHA-256 imprint that was asked for. */
  imprint: Bytes;
}

export interface TimestampRequestOptions {
  /** Nonce content octets; default 16 random bytes (positive, minimal). Tests pass their own. */
  nonce?: Uint8Array;
  /** TSAPolicyId to ask for; omitted by default (the TSA's default policy). */
  policy?: string;
  /** Ask the TSA to include its certificate in the token (default true: the verifier needs it). */
  certReq?: boolean;
}

/** Random positive INTEGER content octets: top bit clear (positive) and first byte non-zero (minimal DER). */
export function randomNonce(length = 16): Bytes {
  const nonce = crypto.getRandomValues(new Uint8Array(length));
  nonce[0] = (nonce[0]! & 0x7f) | 0x40;
  return nonce as Bytes;
}

/** TimeStampReq ::= SEQUENCE { version 1, messageImprint, reqPolicy?, nonce?, certReq DEFAULT FALSE, extensions? }. */
export function buildTimestampRequest(sha256Imprint: Uint8Array, opts: TimestampRequestOptions = {}): TimestampRequest {
  if (sha256Imprint.length !== 32)
    throw malformed(`imprint must be a 32-byte SHA-256 digest, got ${sha256Imprint.length} bytes`, {
      field: "imprint",
    });
  const nonce = opts.nonce ? new Uint8Array(opts.nonce) : randomNonce();
  if (nonce.length === 0 || nonce[0]! & 0x80 || (nonce.length > 1 && nonce[0] === 0 && !(nonce[1]! & 0x80))) {
    throw malformed("nonce must be positive minimal INTEGER content octets", { field: "nonce" });
  }
  const imprint = new Uint8Array(sha256Imprint);
  const fields: asn1js.AsnType[] = [
    new asn1js.Integer({ value: 1 }),
    new asn1js.Sequence({
      value: [
        new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID_SHA256 })] }),
        new asn1js.OctetString({ valueHex: imprint }),
      ],
    }),
  ];
  if (opts.policy) fields.push(new asn1js.ObjectIdentifier({ value: opts.policy }));
  fields.push(new asn1js.Integer({ valueHex: nonce }));
  // DER: a DEFAULT FALSE boolean is omitted when false.
  if (opts.certReq ?? true) fields.push(new asn1js.Boolean({ value: true }));
  const der = new Uint8Array(new asn1js.Sequence({ value: fields }).toBER()) as Bytes;
  return { der, nonce: nonce as Bytes, imprint: imprint as Bytes };
}
