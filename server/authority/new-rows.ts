/** The rows a new agent key and a newly issued certificate start as (registration, rotation, first start). */
import type { CertificatesTable, KeysTable } from "../db/schema.js";

/** A freshly created, enabled agent KMS key. */
export function newAgentKeyRow(arn: string, agentId: string, publicKey: Uint8Array, createdAt: string): KeysTable {
  return {
    arn,
    agent_id: agentId,
    purpose: "agent",
    state: "Enabled",
    public_key: publicKey,
    created_at: createdAt,
    disabled_at: null,
  };
}

/** A newly issued certificate, active (agent, CA or log signer). */
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
