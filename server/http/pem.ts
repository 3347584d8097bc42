import { createHash } from "node:crypto";

export function derToPem(der: Uint8Array, label: "CERTIFICATE" | "X509 CRL" | "PUBLIC KEY"): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
