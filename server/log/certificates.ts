/**
 * Certificate reads the log needs: the signer of an agent's operations (its ACTIVE agent
 * certificate — never a superseded or revoked one), the current CRL, and certificate metadata for
 * exports.
 */
import type { Kysely } from "kysely";
import { pemEncode, type CertificateLine } from "@kakunin/verifier/formats";
import type { Database } from "../db/schema.js";
import type { ResolvedSigner } from "./sequencer.js";
import { CERTIFICATE_CHUNK, SIGNER_PEM_CACHE_SIZE } from "./tuning.js";
import { ENTRY_ALG } from "./types.js";

/**
 * PEMs of certificates and CRLs by serial / CRL number. Both are immutable once stored, so the log's
 * hot path (one signer query per batch, the CRL in every receipt) asks the database only which
 * serial or number is current — its status is always read afresh — and converts each DER once.
 */
export class PemCache {
  private readonly pems = new Map<string, string>();
  constructor(private readonly max = SIGNER_PEM_CACHE_SIZE) {}

  get(key: string): string | undefined {
    return this.pems.get(key);
  }

  set(key: string, pem: string): void {
    if (this.pems.size >= this.max) this.pems.delete(this.pems.keys().next().value!);
    this.pems.set(key, pem);
  }
}

/** Active agent certificates of `agentIds` within `issuerId` (newest first wins if two are active mid-rotation). */
export async function resolveAgentSigners(
  db: Kysely<Database>,
  issuerId: string,
  agentIds: string[],
  pems = new PemCache(),
): Promise<Map<string, ResolvedSigner>> {
  const out = new Map<string, ResolvedSigner>();
  if (agentIds.length === 0) return out;
  const rows = await db
    .selectFrom("certificates")
    .innerJoin("agents", "agents.id", "certificates.agent_id")
    .select([
      "certificates.serial",
      "certificates.agent_id",
      "certificates.key_arn",
      "certificates.created_at",
      "certificates.not_before",
      "certificates.not_after",
    ])
    .where("agents.issuer_id", "=", issuerId)
    .where("certificates.agent_id", "in", agentIds)
    .where("certificates.role", "=", "agent")
    .where("certificates.status", "=", "active")
    .orderBy("certificates.created_at", "asc")
    .execute();
  // PEMs for this call, so that a cache eviction cannot lose one between the lookup and the use.
  const found = new Map<string, string>();
  for (const r of rows) {
    const pem = pems.get(`cert:${r.serial}`);
    if (pem !== undefined) found.set(r.serial, pem);
  }
  const missing = [...new Set(rows.map((r) => r.serial).filter((serial) => !found.has(serial)))];
  if (missing.length > 0) {
    const ders = await db.selectFrom("certificates").select(["serial", "der"]).where("serial", "in", missing).execute();
    for (const d of ders) {
      const pem = pemEncode(d.der, "CERTIFICATE");
      found.set(d.serial, pem);
      pems.set(`cert:${d.serial}`, pem);
    }
  }
  for (const r of rows) {
    const certificatePem = found.get(r.serial);
    if (certificatePem === undefined) continue; // cannot happen: the serial came from the same table
    // later rows (newer certificates) overwrite earlier ones
    out.set(r.agent_id!, {
      ref: { cert: r.serial, key: r.key_arn, alg: ENTRY_ALG },
      certificatePem,
      validity: { notBefore: r.not_before, notAfter: r.not_after },
    });
  }
  return out;
}

export async function currentCrlPem(db: Kysely<Database>, pems = new PemCache()): Promise<string | undefined> {
  const row = await db.selectFrom("crls").select("number").orderBy("number", "desc").limit(1).executeTakeFirst();
  if (!row) return undefined;
  const key = `crl:${row.number}`;
  let pem = pems.get(key);
  if (pem === undefined) {
    const crl = await db.selectFrom("crls").select("der").where("number", "=", row.number).executeTakeFirstOrThrow();
    pem = pemEncode(crl.der, "X509 CRL");
    pems.set(key, pem);
  }
  return pem;
}

/** One `certificate` line of an export (FORMATS.md, export item 2). */
export type { CertificateLine };

export async function certificateLines(db: Kysely<Database>, serials: string[]): Promise<CertificateLine[]> {
  const out: CertificateLine[] = [];
  for (let i = 0; i < serials.length; i += CERTIFICATE_CHUNK) {
    const rows = await db
      .selectFrom("certificates")
      .leftJoin("keys", "keys.arn", "certificates.key_arn")
      .select([
        "certificates.serial",
        "certificates.der",
        "certificates.role",
        "certificates.agent_id",
        "certificates.status",
        "certificates.not_before",
        "certificates.not_after",
        "certificates.key_arn",
        "certificates.superseded_at",
        "certificates.revoked_at",
        "certificates.revocation_reason",
        "keys.state",
        "keys.disabled_at",
      ])
      .where("certificates.serial", "in", serials.slice(i, i + CERTIFICATE_CHUNK))
      .orderBy("certificates.created_at", "asc")
      .execute();
    for (const r of rows) {
      out.push({
        kind: "certificate",
        serial: r.serial,
        pem: pemEncode(r.der, "CERTIFICATE"),
        role: r.role === "log" ? "log" : "agent",
        agent: r.agent_id ?? null,
        status: r.status,
        notBefore: r.not_before,
        notAfter: r.not_after,
        keyArn: r.key_arn,
        keyState: r.state === "Disabled" ? "Disabled" : "Enabled",
        disabledAt: r.disabled_at ?? null,
        supersededAt: r.superseded_at ?? null,
        revokedAt: r.revoked_at ?? null,
        revocationReason: r.revocation_reason ?? null,
      });
    }
  }
  return out;
}
