/** Reads a pinned TSA trust list: one or more PEM CERTIFICATE blocks. */
import { pemDecodeAll } from "../formats/pem.js";
import type { Bytes } from "../formats/bytes.js";
import { TimestampMalformedError } from "./errors.js";

/** DER certificates from PEM text; anything but CERTIFICATE blocks, or none at all, is ERR_TSA_MALFORMED. */
export function parseTsaTrustList(pem: string, field = "tsaTrustList"): Bytes[] {
  let blocks;
  try {
    blocks = pemDecodeAll(pem, field);
  } catch (err) {
    throw new TimestampMalformedError((err as Error).message, { field });
  }
  if (blocks.length === 0) throw new TimestampMalformedError(`${field} holds no certificate`, { field });
  return blocks.map((b, i) => {
    if (b.label !== "CERTIFICATE")
      throw new TimestampMalformedError(`${field} block ${i + 1} is ${b.label}, expected CERTIFICATE`, { field });
    return b.der;
  });
}
