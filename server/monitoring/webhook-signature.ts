import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * How a receiver knows a webhook came from Kakunin and is fresh: the header
 *   Kakunin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 * The timestamp is signed with the body, so a captured delivery cannot be replayed later than the
 * receiver's tolerance; each retry is signed anew with its own time.
 */
export const SIGNATURE_HEADER = "kakunin-signature";

export function signatureHeader(secret: string | Uint8Array, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, body)}`;
}

/**
 * Checks a `Kakunin-Signature` header (for receivers, and the tests): true when some `v1` value is
 * the HMAC of this body and the timestamp is within `toleranceSeconds` of `nowSeconds`.
 */
export function verifySignatureHeader(
  secret: string | Uint8Array,
  header: string,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const t = parts.find(([k]) => k === "t")?.[1];
  if (t === undefined || !/^\d{1,12}$/.test(t)) return false;
  const time = Number(t);
  if (Math.abs(nowSeconds - time) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, time, body), "hex");
  return parts.some(([k, v]) => {
    if (k !== "v1" || v === undefined || !/^[0-9a-f]{64}$/.test(v)) return false;
    return timingSafeEqual(Buffer.from(v, "hex"), expected);
  });
}

function hmacHex(secret: string | Uint8Array, unixSeconds: number, body: string): string {
  return createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
}
