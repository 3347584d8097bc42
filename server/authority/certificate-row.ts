/** The `certificates` row of a newly issued, active certificate (agent, CA or log signer). */
import type { CertificatesTable } from "../db/schema.js";

export function activeCertificateRow(
  cert: { serial: string; der: Uint8Array; notBefore: Date; notAfter: Date },
  owner: { role: CertificatesTable["role"]; keyArn: string; agentId: string | null; createdAt: string },
): CertificatesTable {
  return {
    serial: cert.serial,
    agent_id: owner.agentId,
    key_arn: owner.keyArn,
    role: owner.role,
    der: cert.der,
    not_before: cert.notBefore.toISOString(),
    not_after: cert.notAfter.toISOString(),
    status: "active",
    superseded_at: null,
    revoked_at: null,
    revocation_reason: null,
    created_at: owner.createdAt,
  };
}
