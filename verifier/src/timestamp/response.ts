/**
 * Parses an RFC 3161 TimeStampResp: the PKIStatusInfo, and the token when the status grants one.
 */
import * as asn1js from "asn1js";
import type { Bytes } from "../formats/bytes.js";
import { TimestampMalformedError, TimestampRejectedError } from "./errors.js";
import { failInfoNames } from "./fail-info.js";
import { own } from "./signature.js";
import { parseDer, verifyTimestampToken, type TimestampExpectation, type VerifiedTimestamp } from "./verify-token.js";

const STATUS_NAMES = [
  "granted",
  "grantedWithMods",
  "rejection",
  "waiting",
  "revocationWarning",
  "revocationNotification",
];

/**
 * TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }.
 * Returns the token's DER; a status other than granted(0)/grantedWithMods(1) is ERR_TSA_REJECTED.
 */
export function extractTimestampToken(responseDer: Uint8Array): Bytes {
  const resp = parseDer(responseDer, "timeStampResp");
  const fields = resp instanceof asn1js.Sequence ? resp.valueBlock.value : [];
  const statusInfo = fields[0];
  const statusParts = statusInfo instanceof asn1js.Sequence ? statusInfo.valueBlock.value : [];
  const status = statusParts[0];
  if (!(status instanceof asn1js.Integer) || fields.length > 2)
    throw new TimestampMalformedError("timeStampResp is not a TimeStampResp", { field: "timeStampResp" });
  const code = status.valueBlock.valueDec;
  if (code !== 0 && code !== 1) {
    const bits = statusParts.find((p) => p instanceof asn1js.BitString);
    const failInfo = bits ? failInfoNames((bits as asn1js.BitString).valueBlock.valueHexView) : [];
    const text = statusParts.find((p) => p instanceof asn1js.Sequence) as asn1js.Sequence | undefined;
    const texts = text
      ? text.valueBlock.value.map((v) => (v instanceof asn1js.Utf8String ? v.valueBlock.value : "")).filter(Boolean)
      : [];
    throw new TimestampRejectedError(
      `the TSA answered ${STATUS_NAMES[code] ?? `status ${code}`}${failInfo.length ? ` (${failInfo.join(", ")})` : ""}${texts.length ? `: ${texts.join("; ")}` : ""}`,
      code,
      failInfo,
    );
  }
  const token = fields[1];
  if (!token)
    throw new TimestampMalformedError("a granted timeStampResp carries no timeStampToken", { field: "timeStampToken" });
  return own(token.toBER());
}

/** Extracts and verifies the token of a TimeStampResp; also returns the token's DER (what receipts store). */
export async function verifyTimestampResponse(
  responseDer: Uint8Array,
  expect: TimestampExpectation,
): Promise<VerifiedTimestamp & { token: Bytes }> {
  const token = extractTimestampToken(responseDer);
  return { ...(await verifyTimestampToken(token, expect)), token };
}
