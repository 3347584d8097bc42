/**
 * The public directory (GET /v1/public/directory) as the portal uses it.
 *
 * The same normaliser runs at build time (Astro front matter) and in the browser (the optional
 * load-time refresh), so both see one shape whatever optional fields the API adds or omits.
 * No Node imports here.
 */

export interface DirCertificate {
  serial: string;
  pem: string;
  role: "agent" | "log" | "ca";
  agent: string | null;
  status: "active" | "superseded" | "revoked" | string;
  notBefore: string | null;
  notAfter: string | null;
  keyArn: string | null;
  keyState: string | null;
  keyCreatedAt: string | null;
  disabledAt: string | null;
  supersededAt: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
  createdAt: string | null;
}

export interface DirAgent {
  id: string;
  name: string;
  issuer: string;
  issuerName: string | null;
  status: string;
  createdAt: string | null;
  certificates: DirCertificate[];
}

export interface DirIssuer {
  id: string;
  name: string;
  createdAt: string | null;
}

export interface Directory {
  /** When the API produced the document (ISO). */
  generatedAt: string | null;
  ca: { pem: string; fingerprint: string } | null;
  logSigner: DirCertificate | null;
  crl: { pem: string; number: string | null; thisUpdate: string | null; nextUpdate: string | null } | null;
  issuers: DirIssuer[];
  agents: DirAgent[];
  /** Where this copy came from: "build" (pinned in the files) or "api" (refreshed at load time). */
  source: "build" | "api" | "example";
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const str = (...vs: unknown[]): string | null => {
  for (const v of vs) if (typeof v === "string" && v !== "") return v;
  for (const v of vs) if (typeof v === "number" || typeof v === "bigint") return String(v);
  return null;
};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** "sha256:AB:CD…" / "AB CD …" / hex → "sha256:abcd…" (lowercase, no separators). */
export function normaliseFingerprint(fp: string | null | undefined): string {
  if (!fp) return "";
  const hex = fp
    .replace(/^sha-?256:/i, "")
    .replace(/[^0-9a-fA-F]/g, "")
    .toLowerCase();
  return hex.length === 64 ? `sha256:${hex}` : "";
}

/** "sha256:abcd…" → "AB:CD:…" grouped for reading aloud over the phone. */
export function displayFingerprint(fp: string): string {
  const hex = fp.replace(/^sha256:/, "").toUpperCase();
  return hex.match(/.{2}/g)?.join(":") ?? hex;
}

function cert(raw: unknown, fallbackRole: DirCertificate["role"], agent: string | null): DirCertificate {
  const c = obj(raw);
  const key = obj(c.key);
  const role = (str(c.role) as DirCertificate["role"] | null) ?? fallbackRole;
  return {
    serial: (str(c.serial) ?? "").toLowerCase(),
    pem: str(c.pem, c.certificate, c.certificatePem) ?? "",
    role,
    agent: str(c.agent, c.agentId) ?? agent,
    status: str(c.status) ?? "active",
    notBefore: str(c.notBefore, c.not_before),
    notAfter: str(c.notAfter, c.not_after),
    keyArn: str(c.keyArn, c.key_arn, key.arn),
    keyState: str(c.keyState, key.state),
    keyCreatedAt: str(c.keyCreatedAt, key.createdAt),
    disabledAt: str(c.disabledAt, c.keyDisabledAt, key.disabledAt),
    supersededAt: str(c.supersededAt),
    revokedAt: str(c.revokedAt),
    revocationReason: str(c.revocationReason, c.reason),
    createdAt: str(c.createdAt, c.issuedAt),
  };
}

export function normaliseDirectory(raw: unknown, source: Directory["source"]): Directory {
  const d = obj(raw);
  const ca = obj(d.ca);
  const caPem = str(ca.pem, ca.certificate, ca.certificatePem, d.caCertificate, d.caPem);
  const fingerprint = normaliseFingerprint(str(ca.fingerprint, ca.fingerprintSha256, ca.sha256, d.caFingerprint));
  const crlRaw = d.crl;
  const crlObj = typeof crlRaw === "string" ? { pem: crlRaw } : obj(crlRaw);
  const crlPem = str(crlObj.pem);
  const issuers: DirIssuer[] = arr(d.issuers).map((i) => {
    const o = obj(i);
    return { id: str(o.id) ?? "", name: str(o.name) ?? str(o.id) ?? "", createdAt: str(o.createdAt) };
  });
  const issuerName = new Map(issuers.map((i) => [i.id, i.name]));
  const agents: DirAgent[] = arr(d.agents).map((a) => {
    const o = obj(a);
    const id = str(o.id) ?? "";
    const issuer = str(o.issuer, o.issuerId, obj(o.issuer).id) ?? "";
    const certs = arr(o.certificates ?? o.certificateHistory ?? o.certs).map((c) => cert(c, "agent", id));
    certs.sort(
      (x, y) =>
        (x.notBefore ?? "").localeCompare(y.notBefore ?? "") || (x.createdAt ?? "").localeCompare(y.createdAt ?? ""),
    );
    return {
      id,
      name: str(o.name) ?? id,
      issuer,
      issuerName: str(o.issuerName, obj(o.issuer).name) ?? issuerName.get(issuer) ?? null,
      status: str(o.status) ?? "active",
      createdAt: str(o.createdAt),
      certificates: certs,
    };
  });
  const logSignerRaw = d.logSigner ?? d.log_signer ?? d.logCertificate;
  return {
    generatedAt: str(d.generatedAt, d.time, d.updatedAt),
    ca: caPem || fingerprint ? { pem: caPem ?? "", fingerprint } : null,
    logSigner: logSignerRaw ? cert(logSignerRaw, "log", null) : null,
    crl: crlPem
      ? {
          pem: crlPem,
          number: str(crlObj.number, crlObj.crlNumber),
          thisUpdate: str(crlObj.thisUpdate),
          nextUpdate: str(crlObj.nextUpdate),
        }
      : null,
    issuers,
    agents,
    source,
  };
}

/** Every certificate in the directory by serial (agents' histories and the log signer). */
export function certificatesBySerial(
  dir: Directory,
): Map<string, DirCertificate & { agentName?: string; issuerName?: string | null }> {
  const map = new Map<string, DirCertificate & { agentName?: string; issuerName?: string | null }>();
  for (const a of dir.agents)
    for (const c of a.certificates) map.set(c.serial, { ...c, agentName: a.name, issuerName: a.issuerName });
  if (dir.logSigner) map.set(dir.logSigner.serial, { ...dir.logSigner, agentName: "Kakunin log signer" });
  return map;
}
