/**
 * Build-time (Node) helpers to describe certificates and CRLs on the static pages.
 * Only Astro front matter imports this: it never reaches the browser bundles.
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { crlReasonName } from "@kakunin/verifier/formats";

const NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
};

function der(pem: string): ArrayBuffer {
  const b64 = pem.replace(/-----(BEGIN|END)[^-]+-----/g, "").replace(/\s+/g, "");
  const buf = Buffer.from(b64, "base64");
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
const hex = (v: ArrayBuffer): string =>
  Buffer.from(v)
    .toString("hex")
    .replace(/^(00)+(?=.)/, "");
const name = (n: pkijs.RelativeDistinguishedNames): string =>
  n.typesAndValues.map((tv) => `${NAMES[tv.type] ?? tv.type}=${tv.value.valueBlock.value}`).join(", ");
const iso = (t: pkijs.Time | undefined): string => (t ? t.value.toISOString() : "");

export interface CertInfo {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  san: string[];
}

export function describeCertificate(pem: string): CertInfo | null {
  try {
    const cert = pkijs.Certificate.fromBER(der(pem));
    const sanExt = cert.extensions?.find((e) => e.extnID === "2.5.29.17");
    const san: string[] = [];
    const parsed = sanExt?.parsedValue as pkijs.GeneralNames | undefined;
    for (const g of parsed?.names ?? []) if (typeof g.value === "string") san.push(g.value);
    return {
      subject: name(cert.subject),
      issuer: name(cert.issuer),
      serial: hex(cert.serialNumber.valueBlock.valueHexView.slice().buffer),
      notBefore: iso(cert.notBefore),
      notAfter: iso(cert.notAfter),
      san,
    };
  } catch {
    return null;
  }
}

export interface CrlInfo {
  number: string | null;
  thisUpdate: string;
  nextUpdate: string;
  revoked: { serial: string; date: string; reason: string }[];
}

export function describeCrl(pem: string): CrlInfo | null {
  try {
    const crl = pkijs.CertificateRevocationList.fromBER(der(pem));
    const numExt = crl.crlExtensions?.extensions.find((e) => e.extnID === "2.5.29.20");
    let number: string | null = null;
    if (numExt) {
      const n = asn1js.fromBER(numExt.extnValue.valueBlock.valueHexView).result as asn1js.Integer;
      number = n.toBigInt().toString();
    }
    return {
      number,
      thisUpdate: iso(crl.thisUpdate),
      nextUpdate: iso(crl.nextUpdate),
      revoked: (crl.revokedCertificates ?? []).map((r) => {
        const rc = r.crlEntryExtensions?.extensions.find((e) => e.extnID === "2.5.29.21");
        let reason = "";
        if (rc) {
          const e = asn1js.fromBER(rc.extnValue.valueBlock.valueHexView).result as asn1js.Enumerated;
          reason = crlReasonName(e.valueBlock.valueDec) ?? String(e.valueBlock.valueDec);
        }
        return {
          serial: hex(r.userCertificate.valueBlock.valueHexView.slice().buffer),
          date: iso(r.revocationDate),
          reason,
        };
      }),
    };
  } catch {
    return null;
  }
}
