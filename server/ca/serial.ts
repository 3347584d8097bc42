import { randomBytes } from "node:crypto";

/**
 * A certificate serial: 16 CSPRNG bytes with the high bit cleared (positive INTEGER) and a non-zero
 * first byte (so the DER INTEGER is exactly 16 octets): 127 bits minus a negligible sliver of entropy.
 * Returned as 32 lowercase hex digits.
 */
export function newSerial(): string {
  for (;;) {
    const b = randomBytes(16);
    b[0] = b[0]! & 0x7f;
    if (b[0] !== 0) return b.toString("hex");
  }
}

/** Canonical lowercase hex of a serial as X.509 libraries print it (no leading 00 sign octet). */
export function normalizeSerial(hex: string): string {
  let s = hex.toLowerCase();
  if (!/^[0-9a-f]+$/.test(s)) throw new Error(`Not a hex serial: ${hex}`);
  if (s.length % 2) s = `0${s}`;
  while (s.length > 2 && s.startsWith("00") && parseInt(s.slice(2, 4), 16) < 0x80) s = s.slice(2);
  if (s.length > 2 && s.startsWith("00") && parseInt(s.slice(2, 4), 16) >= 0x80) s = s.slice(2);
  return s;
}
