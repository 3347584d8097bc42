/** Read models the authority serves (server/authority/: agent and certificate views with their history and key states, the directory). */
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";
import { pemEncode } from "@kakunin/verifier/formats";

export interface KeyView {
  arn: string;
  state: string;
  createdAt: string;
  disabledAt: string | null;
}
export interface CertificateView {
  serial: string;
  pem: string;
  status: "active" | "superseded" | "revoked";
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  supersededAt: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
  /** Key state/dates at the time of the request. */
  key: KeyView;
}
export interface AgentView {
  id: string;
  name: string;
  issuer: { id: string; name: string };
  status: "active" | "revoked";
  createdAt: string;
  /** Serial of the one active certificate, or null once revoked. */
  activeCertificate: string | null;
  keyArn: string | null;
  certificates: CertificateView[];
}

type CertRow = {
  serial: string;
  agent_id: string | null;
  der: Uint8Array;
  status: "active" | "superseded" | "revoked";
  not_before: string;
  not_after: string;
  created_at: string;
  superseded_at: string | null;
  revoked_at: string | null;
  revocation_reason: string | null;
  key_arn: string;
  key_state: string;
  key_created_at: string;
  key_disabled_at: string | null;
};

function certQuery(db: Kysely<Database>) {
  return db
    .selectFrom("certificates")
    .innerJoin("keys", "keys.arn", "certificates.key_arn")
    .select([
      "certificates.serial",
      "certificates.agent_id",
      "certificates.der",
      "certificates.status",
      "certificates.not_before",
      "certificates.not_after",
      "certificates.created_at",
      "certificates.superseded_at",
      "certificates.revoked_at",
      "certificates.revocation_reason",
      "certificates.key_arn",
      "keys.state as key_state",
      "keys.created_at as key_created_at",
      "keys.disabled_at as key_disabled_at",
    ]);
}

function toCertView(r: CertRow): CertificateView {
  return {
    serial: r.serial,
    pem: pemEncode(r.der, "CERTIFICATE"),
    status: r.status,
    notBefore: r.not_before,
    notAfter: r.not_after,
    issuedAt: r.created_at,
    supersededAt: r.superseded_at,
    revokedAt: r.revoked_at,
    revocationReason: r.revocation_reason,
    key: { arn: r.key_arn, state: r.key_state, createdAt: r.key_created_at, disabledAt: r.key_disabled_at },
  };
}

/** Agents (optionally of one issuer / one id / expiring before a date) with their full history. */
export async function agentViews(
  db: Kysely<Database>,
  filter: { issuerId?: string; agentId?: string; expiringBefore?: Date } = {},
): Promise<AgentView[]> {
  let q = db
    .selectFrom("agents")
    .innerJoin("issuers", "issuers.id", "agents.issuer_id")
    .select([
      "agents.id",
      "agents.name",
      "agents.status",
      "agents.created_at",
      "agents.issuer_id",
      "issuers.name as issuer_name",
    ]);
  if (filter.issuerId !== undefined) q = q.where("agents.issuer_id", "=", filter.issuerId);
  if (filter.agentId !== undefined) q = q.where("agents.id", "=", filter.agentId);
  if (filter.expiringBefore !== undefined) {
    const before = filter.expiringBefore.toISOString();
    q = q.where(
      "agents.id",
      "in",
      db
        .selectFrom("certificates")
        .select("agent_id")
        .where("status", "=", "active")
        .where("not_after", "<=", before)
        .where("agent_id", "is not", null) as never,
    );
  }
  const agents = await q.orderBy("agents.created_at").orderBy("agents.id").execute();
  if (agents.length === 0) return [];
  let cq = certQuery(db).where("certificates.role", "=", "agent");
  if (agents.length <= 500)
    cq = cq.where(
      "certificates.agent_id",
      "in",
      agents.map((a) => a.id),
    );
  const certs = (await cq.orderBy("certificates.created_at").orderBy("certificates.serial").execute()) as CertRow[];
  const byAgent = new Map<string, CertificateView[]>();
  for (const c of certs) {
    if (!c.agent_id) continue;
    const list = byAgent.get(c.agent_id) ?? [];
    list.push(toCertView(c));
    byAgent.set(c.agent_id, list);
  }
  return agents.map((a) => {
    const history = byAgent.get(a.id) ?? [];
    const active = history.find((c) => c.status === "active");
    return {
      id: a.id,
      name: a.name,
      issuer: { id: a.issuer_id, name: a.issuer_name },
      status: a.status,
      createdAt: a.created_at,
      activeCertificate: active?.serial ?? null,
      keyArn: active?.key.arn ?? null,
      certificates: history,
    };
  });
}

export interface PublicCertificateView extends CertificateView {
  role: "agent" | "ca" | "log";
  agent: { id: string; name: string; issuer: { id: string; name: string } } | null;
}

export async function certificateView(
  db: Kysely<Database>,
  serial: string,
): Promise<PublicCertificateView | undefined> {
  const row = await certQuery(db)
    .select("certificates.role")
    .where("certificates.serial", "=", serial)
    .executeTakeFirst();
  if (!row) return undefined;
  let agent: PublicCertificateView["agent"] = null;
  if (row.agent_id) {
    const a = await db
      .selectFrom("agents")
      .innerJoin("issuers", "issuers.id", "agents.issuer_id")
      .select(["agents.id", "agents.name", "issuers.id as issuer_id", "issuers.name as issuer_name"])
      .where("agents.id", "=", row.agent_id)
      .executeTakeFirst();
    if (a) agent = { id: a.id, name: a.name, issuer: { id: a.issuer_id, name: a.issuer_name } };
  }
  return { ...toCertView(row as CertRow), role: row.role, agent };
}

export async function latestCrl(db: Kysely<Database>) {
  return db.selectFrom("crls").selectAll().orderBy("number", "desc").limit(1).executeTakeFirst();
}

export async function systemValue(db: Kysely<Database>, name: string): Promise<string | undefined> {
  return (await db.selectFrom("system").select("value").where("name", "=", name).executeTakeFirst())?.value;
}
