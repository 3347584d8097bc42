/** RFC 5280 §5.3.1 CRLReason: the names servers, CRL readers and the portal use. */

/** The reasons a certificate may be revoked for (CRLReason names; removeFromCRL undoes a hold, it is not a reason). */
export const REVOCATION_REASONS = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "privilegeWithdrawn",
  "aACompromise",
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** CRLReason names by their ENUMERATED value (7 is unused). */
const CRL_REASON_NAMES: readonly string[] = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "",
  "removeFromCRL",
  "privilegeWithdrawn",
  "aACompromise",
];

/** The CRLReason name of a reasonCode value, or undefined for a value RFC 5280 does not define. */
export function crlReasonName(code: number): string | undefined {
  const name = CRL_REASON_NAMES[code];
  return name === "" ? undefined : name;
}

export function isRevocationReason(s: unknown): s is RevocationReason {
  return typeof s === "string" && (REVOCATION_REASONS as readonly string[]).includes(s);
}
