/** What anyone may read without a token: the CA certificate, the latest CRL, any agent, any certificate Kakunin issued. */
import type { AppDeps } from "../deps.js";
import { agentViews, certificateView, latestCrl, type AgentView, type PublicCertificateView } from "../db/views.js";
import { NotFoundError } from "../errors.js";

/** The stored CA certificate (404 before bootstrap). */
export async function caCertificate(deps: AppDeps): Promise<{ serial: string; der: Uint8Array }> {
  const row = await deps.db
    .selectFrom("certificates")
    .innerJoin("system", "system.value", "certificates.serial")
    .select(["certificates.serial", "certificates.der"])
    .where("system.name", "=", "ca_cert_serial")
    .executeTakeFirst();
  if (!row) throw new NotFoundError("CA not bootstrapped");
  return { serial: row.serial, der: new Uint8Array(row.der) };
}

/** The latest CRL as stored (404 until the first one is published). */
export async function currentCrl(deps: AppDeps) {
  const crl = await latestCrl(deps.db);
  if (!crl) throw new NotFoundError("No CRL published yet");
  return crl;
}

/** Any agent by id, of any issuer. */
export async function publicAgentView(deps: AppDeps, agentId: string): Promise<AgentView> {
  const [view] = await agentViews(deps.db, { agentId });
  if (!view) throw new NotFoundError("Agent not found", "ERR_AGENT_NOT_FOUND");
  return view;
}

/** Any certificate Kakunin issued (agent, CA or log signer) by its lowercase hex serial. */
export async function publicCertificateView(deps: AppDeps, serial: string): Promise<PublicCertificateView> {
  const view = await certificateView(deps.db, serial);
  if (!view) throw new NotFoundError("Certificate not found", "ERR_CERTIFICATE_NOT_FOUND");
  return view;
}
