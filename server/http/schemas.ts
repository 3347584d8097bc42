/** zod schemas shared by the routes (and therefore by /openapi.json). */
import { z } from "@hono/zod-openapi";
import { REVOCATION_REASONS } from "../ca/crl.js";

export const AgentId = z
  .string()
  .regex(/^agt_[0-9a-f]{32}$/, "must be an agent id (agt_…)")
  .openapi({ example: "agt_5b1e0c0d7f3a4e2b9c8d7e6f5a4b3c2d" });
export const Serial = z
  .string()
  .regex(/^[0-9a-f]{2,40}$/, "must be a lowercase hex serial")
  .openapi({ example: "5f0c2a9e1b7d4c3a8e6f" });

export const KeyView = z
  .object({
    arn: z.string(),
    state: z.string().openapi({ description: "Enabled | Disabled" }),
    createdAt: z.string(),
    disabledAt: z.string().nullable(),
  })
  .openapi("Key");

export const CertificateView = z
  .object({
    serial: z.string(),
    pem: z.string(),
    status: z.enum(["active", "superseded", "revoked"]),
    notBefore: z.string(),
    notAfter: z.string(),
    issuedAt: z.string(),
    supersededAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    revocationReason: z.string().nullable(),
    key: KeyView,
  })
  .openapi("Certificate");

export const AgentView = z
  .object({
    id: z.string(),
    name: z.string(),
    issuer: z.object({ id: z.string(), name: z.string() }),
    status: z.enum(["active", "revoked"]),
    createdAt: z.string(),
    activeCertificate: z.string().nullable(),
    keyArn: z.string().nullable(),
    certificates: z.array(CertificateView),
  })
  .openapi("Agent");

export const PublicCertificateView = CertificateView.extend({
  role: z.enum(["agent", "ca", "log"]),
  agent: z
    .object({ id: z.string(), name: z.string(), issuer: z.object({ id: z.string(), name: z.string() }) })
    .nullable(),
}).openapi("PublicCertificate");

export const RevocationReason = z.enum(REVOCATION_REASONS).openapi({ description: "RFC 5280 CRLReason name" });

/**
 * A path or query integer: decimal digits only (no sign, space, hex, exponent or empty string —
 * `z.coerce.number()` accepted all of those), within [min, max]; anything else is a 400.
 */
export function DecimalInteger(min: number, max: number) {
  return z
    .string()
    .regex(/^[0-9]{1,16}$/, "must be decimal digits only")
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);
}
