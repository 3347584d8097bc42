/** The contents of the public directory (GET /v1/public/directory), from which the static portal is built. */
import type { AppDeps } from "../deps.js";
import { agentViews, certificateView, latestCrl, type AgentView, type PublicCertificateView } from "../db/views.js";
import { listIssuers } from "./issuers.js";
import { caCertificate } from "./public-records.js";

/** Everything the directory document is rendered from. */
export interface DirectoryContents {
  ca: { serial: string; der: Uint8Array };
  /** The log signer's certificate as stored, if it is. */
  logSigner: PublicCertificateView | undefined;
  crl: Awaited<ReturnType<typeof latestCrl>>;
  issuers: { id: string; name: string }[];
  agents: AgentView[];
}

/** Reads the CA certificate, the log signer's certificate, the latest CRL, all issuers and all agents. */
export async function readDirectory(deps: AppDeps): Promise<DirectoryContents> {
  const ca = await caCertificate(deps);
  const logSigner = await certificateView(deps.db, deps.logSigner.certSerial);
  const crl = await latestCrl(deps.db);
  const issuers = await listIssuers(deps);
  const agents = await agentViews(deps.db);
  return { ca, logSigner, crl, issuers, agents };
}
