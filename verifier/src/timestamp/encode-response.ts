/**
 * Wraps a stored TimeStampToken back into an RFC 3161 TimeStampResp (what `…/checkpoint.tsr`
 * serves and `openssl ts -verify -in` reads). The status is not signed, so re-wrapping a verified
 * token with `granted` says nothing the token does not.
 */
import * as asn1js from "asn1js";
import type { Bytes } from "../formats/bytes.js";
import { own } from "./signature.js";
import { parseDer } from "./verify-token.js";

/** TimeStampResp ::= SEQUENCE { status PKIStatusInfo { status granted(0) }, timeStampToken } in DER. */
export function encodeTimestampResponse(tokenDer: Uint8Array): Bytes {
  parseDer(tokenDer, "timeStampToken"); // one DER value, nothing trailing
  const status = new asn1js.Sequence({ value: [new asn1js.Integer({ value: 0 })] });
  // The token's bytes are kept as received (asn1js would re-encode them; its RawData is not counted in lengths).
  const statusDer = new Uint8Array(status.toBER());
  const body = new Uint8Array(statusDer.length + tokenDer.length);
  body.set(statusDer, 0);
  body.set(tokenDer, statusDer.length);
  return own(sequenceOf(body));
}

/** DER SEQUENCE header (definite length) around already-encoded content. */
function sequenceOf(content: Uint8Array): Uint8Array {
  const n = content.length;
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = 0x30;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}
