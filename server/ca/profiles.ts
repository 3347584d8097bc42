/**
 * Certificate profiles (RFC 5280; see docs/ARCHITECTURE.md#keys-and-certificates). Pure builders: names,
 * extensions and validity windows. Signing happens in authority.ts.
 */
import { createPublicKey } from "node:crypto";
import { ValidationError } from "../errors.js";
import { toArrayBuffer } from "./bytes.js";
import { x509 } from "./x509.js";

export const OID_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36";
export const CA_SUBJECT = "CN=Kakunin Root CA, O=Kakunin";
export const LOG_SIGNER_CN = "Kakunin log signer";
export const DAY_MS = 86_400_000;
export const CA_VALIDITY_DAYS = 3650;
export const LOG_SIGNER_VALIDITY_DAYS = 5 * 365;
/** The one AlgorithmIdentifier every certificate and CRL carries: sha256WithRSAEncryption. */
export const SIGNING_ALGORITHM = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

const AGENT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TRUST_DOMAIN_RE = /^[a-z0-9]([a-z0-9._-]{0,253}[a-z0-9])?$/;

export function assertAgentId(agentId: string): void {
  if (typeof agentId !== "string" || !AGENT_ID_RE.test(agentId)) {
    throw new ValidationError(
      "agentId must be 1-64 characters of A-Z a-z 0-9 . _ - (it appears in the CN and a SPIFFE URI)",
      { field: "agentId", status: 422 },
    );
  }
}

export function assertIssuerName(name: string): void {
  // ub-organization-name is 64; no control characters.
  if (
    typeof name !== "string" ||
    name.trim().length === 0 ||
    [...name].length > 64 ||
    /[\u0000-\u001f\u007f]/.test(name)
  ) {
    throw new ValidationError("issuerName must be 1-64 printable characters", { field: "issuerName", status: 422 });
  }
}

export function assertTrustDomain(td: string): void {
  if (!TRUST_DOMAIN_RE.test(td)) throw new Error(`Invalid SPIFFE trust domain: ${td}`);
}

export function agentSpiffeId(trustDomain: string, agentId: string): string {
  return `spiffe://${trustDomain}/agent/${agentId}`;
}

export function logSpiffeId(trustDomain: string): string {
  return `spiffe://${trustDomain}/log`;
}

/** Subject `CN=<cn>, O=<o>` with explicit UTF8String values (no string parsing: names may contain `,` `+` `=`). */
export function subjectName(cn: string, o: string): x509.Name {
  return new x509.Name([{ CN: [{ utf8String: cn }] }, { O: [{ utf8String: o }] }]);
}

/** Checks that the SPKI is a DER RSA public key of at least 2048 bits. */
export function assertRsaSpki(spki: Uint8Array, field = "publicKey"): void {
  let ok = false;
  try {
    const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
    ok = key.asymmetricKeyType === "rsa" && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  } catch {
    ok = false;
  }
  if (!ok)
    throw new ValidationError(`${field} must be a DER SubjectPublicKeyInfo of an RSA key of at least 2048 bits`, {
      field,
      status: 422,
    });
}

export function truncateToSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** [notBefore, min(notBefore + days, capAt)] — never past the CA's notAfter. */
export function validityWindow(notBefore: Date, days: number, capAt?: Date): { notBefore: Date; notAfter: Date } {
  const nb = truncateToSecond(notBefore);
  let na = new Date(nb.getTime() + days * DAY_MS);
  if (capAt && na.getTime() > capAt.getTime()) na = truncateToSecond(capAt);
  return { notBefore: nb, notAfter: na };
}

export async function caExtensions(spki: Uint8Array): Promise<x509.Extension[]> {
  const ski = await x509.SubjectKeyIdentifierExtension.create(toArrayBuffer(spki), false, globalThis.crypto);
  return [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ski,
    new x509.AuthorityKeyIdentifierExtension(ski.keyId, false),
  ];
}

/** End-entity signer profile shared by agent and log-signer certificates. */
export async function signerExtensions(opts: {
  spki: Uint8Array;
  san: string;
  caKeyId: string;
  crlUrl: string;
}): Promise<x509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([OID_DOCUMENT_SIGNING], false),
    new x509.SubjectAlternativeNameExtension([{ type: "url", value: opts.san }], false),
    await x509.SubjectKeyIdentifierExtension.create(toArrayBuffer(opts.spki), false, globalThis.crypto),
    new x509.AuthorityKeyIdentifierExtension(opts.caKeyId, false),
    new x509.CRLDistributionPointsExtension([opts.crlUrl], false),
  ];
}
