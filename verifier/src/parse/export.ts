/** Shape checks for export preamble lines (FORMATS.md "Export"). */
import { malformed } from "../errors.js";
import { ZERO_HASH } from "../formats/hash.js";
import { EXPORT_FORMAT, type CertificateLine, type ExportHeaderLine } from "../formats/wire.js";
import { HASH_RE, SERIAL_RE, int, isObject, obj, optStr, str, time, type Json } from "./fields.js";

/** The header as read: `exportedAt` in epoch ms, the range flattened. */
export type ExportHeader = Pick<ExportHeaderLine, "issuer" | "prevHash" | "caCertificate" | "payloads"> &
  ExportHeaderLine["range"] & { exportedAt: number };

export function parseHeader(v: Json): ExportHeader {
  if (v.kind !== "header") throw malformed("the first line must be the header", { field: "kind" });
  if (v.format !== EXPORT_FORMAT) throw malformed(`header.format must be ${EXPORT_FORMAT}`, { field: "header.format" });
  const range = obj(v, "range", "header");
  const from = int(range, "from", "header.range");
  const to = int(range, "to", "header.range", -1);
  if (to < from - 1) throw malformed("header.range.to is before range.from", { field: "header.range.to" });
  if (v.payloads !== undefined && typeof v.payloads !== "boolean")
    throw malformed("header.payloads must be a boolean", { field: "header.payloads" });
  const prevHash = str(v, "prevHash", "header", HASH_RE);
  if (from === 0 && prevHash !== ZERO_HASH)
    throw malformed("header.prevHash must be 64 zeros when range.from is 0", { field: "header.prevHash" });
  return {
    issuer: str(v, "issuer", "header", /^.{1,256}$/),
    exportedAt: time(v, "exportedAt", "header"),
    from,
    to,
    prevHash,
    caCertificate: str(v, "caCertificate", "header"),
    payloads: v.payloads === true,
  };
}

/** A certificate line's claims; informative, cross-checked against the certificate itself. */
export type CertificateClaims = Pick<CertificateLine, "serial" | "pem"> & { role?: string; agent?: string };

export function parseCertificateLine(v: Json): CertificateClaims {
  const out: CertificateClaims = {
    serial: str(v, "serial", "certificate", SERIAL_RE),
    pem: str(v, "pem", "certificate"),
  };
  const role = optStr(v, "role", "certificate");
  const agent = optStr(v, "agent", "certificate");
  if (role !== undefined) out.role = role;
  if (agent !== undefined) out.agent = agent;
  return out;
}

export function parseCrlLine(v: Json): string {
  return str(v, "pem", "crl");
}

export { isObject };
