/**
 * The `--tsa FILE` bundle: the pinned TSA trust list (CERTIFICATE blocks) and, optionally, CRLs
 * for the TSA path (X509 CRL blocks), in one PEM file. Errors name the block's line.
 */
import * as pkijs from "pkijs";
import type { Bytes } from "../formats/bytes.js";
import { pemDecodeAll } from "../formats/pem.js";
import { TimestampMalformedError } from "./errors.js";
import { parseDer } from "./verify-token.js";

/** A parsed TSA trust policy. */
export interface TsaBundle {
  /** DER of the pinned certificates (TSA CAs, or TSA certificates themselves). */
  trusted: Bytes[];
  /** DER of the CRLs given for the TSA path (may be empty: TSA revocation is then unknown). */
  crls: Bytes[];
}

/** 1-based line numbers of each `-----BEGIN ` marker, in order. */
function beginLines(text: string): number[] {
  const lines: number[] = [];
  text.split("\n").forEach((l, i) => {
    if (l.trimStart().startsWith("-----BEGIN ")) lines.push(i + 1);
  });
  return lines;
}

/** Parses a `--tsa` bundle. At least one certificate is required; anything other than CERTIFICATE / X509 CRL blocks is refused. */
export function parseTsaBundle(pem: string, field = "--tsa"): TsaBundle {
  let blocks;
  try {
    blocks = pemDecodeAll(pem, field);
  } catch (err) {
    throw new TimestampMalformedError((err as Error).message, { field });
  }
  const lines = beginLines(pem);
  const bundle: TsaBundle = { trusted: [], crls: [] };
  blocks.forEach((b, i) => {
    const where = `${field} line ${lines[i] ?? "?"} (block ${i + 1})`;
    const fail = (what: string): never => {
      throw new TimestampMalformedError(`${where}: ${what}`, { field, ...(lines[i] ? { line: lines[i] } : {}) });
    };
    try {
      if (b.label === "CERTIFICATE") {
        new pkijs.Certificate({ schema: parseDer(b.der, "certificate") });
        bundle.trusted.push(b.der);
      } else if (b.label === "X509 CRL") {
        new pkijs.CertificateRevocationList({ schema: parseDer(b.der, "crl") });
        bundle.crls.push(b.der);
      } else {
        fail(`${b.label} is neither CERTIFICATE nor X509 CRL`);
      }
    } catch (err) {
      if (err instanceof TimestampMalformedError && err.message.startsWith(where)) throw err;
      fail(`${b.label} does not parse`);
    }
  });
  if (bundle.trusted.length === 0)
    throw new TimestampMalformedError(`${field} holds no CERTIFICATE: nothing to pin`, { field });
  return bundle;
}
