/** CRL pieces: reason codes, the cRLNumber extension, the PEM label. */
import { ValidationError } from "../errors.js";
import { toArrayBuffer } from "./bytes.js";
import { isRevocationReason, pemEncode, REVOCATION_REASONS, type RevocationReason } from "@kakunin/verifier/formats";
import { x509 } from "./x509.js";

export { isRevocationReason, REVOCATION_REASONS, type RevocationReason };

const REASON_CODES: Record<RevocationReason, x509.X509CrlReason> = {
  unspecified: x509.X509CrlReason.unspecified,
  keyCompromise: x509.X509CrlReason.keyCompromise,
  cACompromise: x509.X509CrlReason.cACompromise,
  affiliationChanged: x509.X509CrlReason.affiliationChanged,
  superseded: x509.X509CrlReason.superseded,
  cessationOfOperation: x509.X509CrlReason.cessationOfOperation,
  certificateHold: x509.X509CrlReason.certificateHold,
  privilegeWithdrawn: x509.X509CrlReason.privilegeWithdrawn,
  aACompromise: x509.X509CrlReason.aACompromise,
};

/** The reasonCode to write; undefined for "unspecified" (RFC 5280 §5.3.1: SHOULD be absent). */
export function reasonCode(reason: RevocationReason): x509.X509CrlReason | undefined {
  if (!isRevocationReason(reason))
    throw new ValidationError(`Unknown revocation reason: ${String(reason)}`, { field: "reason", status: 422 });
  const code = REASON_CODES[reason];
  return code === x509.X509CrlReason.unspecified ? undefined : code;
}

export const OID_CRL_NUMBER = "2.5.29.20";

/** DER INTEGER of a non-negative bigint. */
export function derInteger(n: bigint): Uint8Array {
  if (n < 0n) throw new Error("negative INTEGER");
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, "hex");
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  if (body.length > 127) throw new Error("INTEGER too long");
  return new Uint8Array(Buffer.concat([Buffer.from([0x02, body.length]), body]));
}

/** cRLNumber (non-critical): 0 ≤ n < 2^159 (at most 20 octets, RFC 5280 §5.2.3). */
export function crlNumberExtension(number: bigint | number): x509.Extension {
  const n = typeof number === "bigint" ? number : Number.isSafeInteger(number) ? BigInt(number) : -1n;
  if (n < 0n || n >= 1n << 159n)
    throw new ValidationError("CRL number must be an integer in [0, 2^159)", { field: "number", status: 422 });
  return new x509.Extension(OID_CRL_NUMBER, false, toArrayBuffer(derInteger(n)));
}

/** PEM with the RFC 7468 label (X509Crl.toString("pem") would write "CRL"). */
export function crlPem(der: Uint8Array): string {
  return pemEncode(der, "X509 CRL");
}
