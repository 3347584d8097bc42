/**
 * What a TimeStampToken says, read without verifying it: for display, for choosing which checks
 * apply, and for telling a token over another text apart from a tampered one. Nothing read here
 * may be trusted before {@link verifyTimestampToken} has passed on the same bytes.
 */
import * as pkijs from "pkijs";
import type { Bytes } from "../formats/bytes.js";
import { hexEncode } from "../formats/bytes.js";
import { TimestampMalformedError } from "./errors.js";
import { OID_CT_TST_INFO, OID_SIGNED_DATA } from "./oids.js";
import { own } from "./signature.js";
import { parseDer } from "./verify-token.js";

/** Unverified facts of a token. */
export interface TimestampTokenInfo {
  /** OID of the message imprint's hash algorithm. */
  imprintAlgorithm: string;
  imprint: Bytes;
  genTime: Date;
  /** TSTInfo accuracy in milliseconds, when stated. */
  accuracyMs?: number;
  policy: string;
  /** TSTInfo serialNumber, lowercase hex of its content octets. */
  serialNumber: string;
  /** Nonce content octets, when present. */
  nonce?: Bytes;
  /** DER of every certificate carried in SignedData.certificates (other choices skipped). */
  certificates: Bytes[];
}

/** Parses a DER TimeStampToken far enough to read TSTInfo; throws ERR_TSA_MALFORMED. */
export function readTimestampToken(tokenDer: Uint8Array): TimestampTokenInfo {
  try {
    const contentInfo = new pkijs.ContentInfo({ schema: parseDer(tokenDer, "timeStampToken") });
    if (contentInfo.contentType !== OID_SIGNED_DATA)
      throw new TimestampMalformedError("timeStampToken is not SignedData", { field: "timeStampToken" });
    const signedData = new pkijs.SignedData({ schema: contentInfo.content });
    const octets = signedData.encapContentInfo.eContent;
    if (signedData.encapContentInfo.eContentType !== OID_CT_TST_INFO || !octets || octets.valueBlock.isConstructed) {
      throw new TimestampMalformedError("timeStampToken does not carry a primitive id-ct-TSTInfo", {
        field: "timeStampToken",
      });
    }
    const tst = new pkijs.TSTInfo({ schema: parseDer(own(octets.valueBlock.valueHexView), "tstInfo") });
    const info: TimestampTokenInfo = {
      imprintAlgorithm: tst.messageImprint.hashAlgorithm.algorithmId,
      imprint: own(tst.messageImprint.hashedMessage.valueBlock.valueHexView),
      genTime: tst.genTime,
      policy: tst.policy,
      serialNumber: hexEncode(tst.serialNumber.valueBlock.valueHexView),
      certificates: (signedData.certificates ?? [])
        .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
        .map((c) => own(c.toSchema().toBER())),
    };
    if (tst.accuracy)
      info.accuracyMs =
        (tst.accuracy.seconds ?? 0) * 1000 + (tst.accuracy.millis ?? 0) + (tst.accuracy.micros ?? 0) / 1000;
    if (tst.nonce) info.nonce = own(tst.nonce.valueBlock.valueHexView);
    if (Number.isNaN(info.genTime.getTime()))
      throw new TimestampMalformedError("TSTInfo genTime is not a valid time", { field: "tstInfo" });
    return info;
  } catch (err) {
    if (err instanceof TimestampMalformedError) throw err;
    throw new TimestampMalformedError(`timeStampToken does not parse: ${(err as Error).message}`, {
      field: "timeStampToken",
    });
  }
}

const NAME_LABELS: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.97": "organizationIdentifier",
  "2.5.4.5": "serialNumber",
};

/** A readable distinguished name ("CN=…, O=…, C=…", in certificate order) of a certificate's subject. */
export function subjectName(certDer: Uint8Array): string {
  let cert: pkijs.Certificate;
  try {
    cert = new pkijs.Certificate({ schema: parseDer(certDer, "certificate") });
  } catch {
    throw new TimestampMalformedError("certificate does not parse", { field: "certificate" });
  }
  return cert.subject.typesAndValues
    .map((tv) => {
      const v = tv.value?.valueBlock?.value;
      return `${NAME_LABELS[tv.type] ?? tv.type}=${typeof v === "string" ? v : "#" + hexEncode(new Uint8Array(tv.value.valueBeforeDecodeView))}`;
    })
    .join(", ");
}

/** Lowercase hex serial of a certificate, without the DER sign byte. */
export function certificateSerial(certDer: Uint8Array): string {
  const cert = new pkijs.Certificate({ schema: parseDer(certDer, "certificate") });
  let v = cert.serialNumber.valueBlock.valueHexView;
  if (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) !== 0) v = v.subarray(1);
  return hexEncode(v);
}
