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
