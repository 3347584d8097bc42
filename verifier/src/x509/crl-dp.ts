/** CRL distribution point URIs (RFC 5280 §4.2.1.13) of a certificate, for an explicit online CRL fetch. */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { pemDecodeAll } from "../formats/pem.js";

const OID_CRL_DP = "2.5.29.31";

/** http(s) URIs named by the CRL distribution points of every certificate in `pem`. Never throws. */
export function crlDistributionPoints(pem: string): string[] {
  const out = new Set<string>();
  let blocks;
  try {
    blocks = pemDecodeAll(pem);
  } catch {
    return [];
  }
  for (const b of blocks) {
    if (b.label !== "CERTIFICATE") continue;
    try {
      const cert = new pkijs.Certificate({ schema: asn1js.fromBER(b.der).result });
      const ext = cert.extensions?.find((e) => e.extnID === OID_CRL_DP);
      const dps = (ext?.parsedValue as pkijs.CRLDistributionPoints | undefined)?.distributionPoints ?? [];
      for (const dp of dps) {
        const names = Array.isArray(dp.distributionPoint) ? dp.distributionPoint : [];
        for (const n of names)
          if (n.type === 6 && typeof n.value === "string" && /^https?:\/\//i.test(n.value)) out.add(n.value);
      }
    } catch {
      /* not a certificate we can read: nothing to fetch */
    }
  }
  return [...out];
}
