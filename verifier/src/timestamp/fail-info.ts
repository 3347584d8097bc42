/** PKIFailureInfo (RFC 3161 §2.4.2) bit names, by bit number. */
export const FAIL_INFO_BITS: Readonly<Record<number, string>> = {
  0: "badAlg",
  2: "badRequest",
  5: "badDataFormat",
  14: "timeNotAvailable",
  15: "unacceptedPolicy",
  16: "unacceptedExtension",
  17: "addInfoNotAvailable",
  25: "systemFailure",
};

/** Names of the bits set in a BIT STRING's content (first octet = unused-bit count is NOT included). */
export function failInfoNames(bits: Uint8Array): string[] {
  const names: string[] = [];
  for (let i = 0; i < bits.length * 8; i++) {
    if (bits[i >> 3]! & (0x80 >> (i & 7))) names.push(FAIL_INFO_BITS[i] ?? `bit${i}`);
  }
  return names;
}
