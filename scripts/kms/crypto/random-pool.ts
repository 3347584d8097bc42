import { randomFillSync } from "node:crypto";

/**
 * CSPRNG bytes handed out from a 4 KiB buffer (as node:crypto's randomUUID does): a
 * randomBytes/randomFillSync call costs ≈ 5 µs whatever its size, and every PSS signature needs
 * a fresh 32–64 byte salt. Each byte is handed out once. One pool per thread (module state).
 */
const POOL = Buffer.alloc(4096);
let used = POOL.length;

/** Writes `length` (≤ 4096) fresh random bytes into `target` at `offset`. */
export function randomInto(target: Uint8Array, offset: number, length: number): void {
  if (used + length > POOL.length) {
    randomFillSync(POOL);
    used = 0;
  }
  POOL.copy(target, offset, used, used + length);
  used += length;
}
