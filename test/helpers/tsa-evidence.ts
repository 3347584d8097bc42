import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import {
  CompactRange,
  buildProof,
  formatCheckpoint,
  hashLeaf,
  inclusionPlan,
  rootOfLeafHashes,
  verifyInclusion,
  type TlogCheckpoint,
  type NodeId,
} from "../../verifier/src/formats/index.js";
import type { SigningCertificateFacts, VerifiedInclusion } from "../../verifier/src/timestamp/index.js";

/**
 * Evidence for past-signature-validation tests: a real RFC 9162 tree with a checkpoint text and a
 * verified inclusion proof of one entry, and a real agent PKI (a CA, certificates, CRLs made with
 * @peculiar/x509) whose facts are read back from the DER, as the verifier's X.509/CRL checks would.
 */
export interface CoveredEntry {
  checkpointText: string;
  inclusion: VerifiedInclusion;
}

/** A log of `size` entries ("entry 0" …), its checkpoint text, and the verified inclusion of `leafIndex`. */
export async function checkpointCovering(
  leafIndex: number,
  size: number,
  origin = "kakunin.test/log/issuer-1",
): Promise<CoveredEntry> {
  const leaves: Uint8Array[] = [];
  const nodes = new Map<string, Uint8Array>();
  const range = new CompactRange();
  for (let i = 0; i < size; i++) {
    const h = await hashLeaf(new TextEncoder().encode(`entry ${i}`));
    leaves.push(h);
    for (const n of await range.append(h)) nodes.set(`${n.id.level}/${n.id.index}`, n.hash);
  }
  const root = await rootOfLeafHashes(leaves);
  const proof = await buildProof(inclusionPlan(leafIndex, size), {
    readNodes: async (ids: readonly NodeId[]) => ids.map((id) => nodes.get(`${id.level}/${id.index}`)!),
  });
  await verifyInclusion(leafIndex, size, leaves[leafIndex]!, proof, root);
  return {
    checkpointText: formatCheckpoint({ origin, size, root: root as TlogCheckpoint["root"], extensions: [] }),
    inclusion: { leafIndex, treeSize: size, rootHash: root },
  };
}

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface AgentPki {
  ca: x509.X509Certificate;
  /** An agent certificate with this validity. */
  issue(notBefore: Date, notAfter: Date): Promise<x509.X509Certificate>;
  /** A CRL by the CA listing these revocations. */
  crl(
    revoked: { cert: x509.X509Certificate; date: Date; reason?: x509.X509CrlReason }[],
    thisUpdate: Date,
  ): Promise<x509.X509Crl>;
}

export async function agentPki(name = "CN=Kakunin Test Agent CA"): Promise<AgentPki> {
  const keys = (await crypto.subtle.generateKey(EC, false, ["sign", "verify"])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "0a01",
    name,
    notBefore: new Date("2025-01-01T00:00:00Z"),
    notAfter: new Date("2035-01-01T00:00:00Z"),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  let serial = 0x100;
  return {
    ca,
    async issue(notBefore, notAfter) {
      const agent = (await crypto.subtle.generateKey(EC, false, ["sign", "verify"])) as CryptoKeyPair;
      return x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(4, "0"),
        subject: "CN=agent-7, O=Kakunin Test",
        issuer: ca.subject,
        notBefore,
        notAfter,
        signingAlgorithm: EC,
        publicKey: agent.publicKey,
        signingKey: keys.privateKey,
        extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
      });
    },
    async crl(revoked, thisUpdate) {
      return x509.X509CrlGenerator.create({
        issuer: ca.subject,
        thisUpdate,
        nextUpdate: new Date(thisUpdate.getTime() + 7 * 86_400_000),
        signingAlgorithm: EC,
        signingKey: keys.privateKey,
        entries: revoked.map((r) => ({
          serialNumber: r.cert.serialNumber,
          revocationDate: r.date,
          ...(r.reason !== undefined ? { reason: r.reason } : {}),
        })),
      });
    },
  };
}

const REASON_NAMES: Record<number, string> = {
  0: "unspecified",
  1: "keyCompromise",
  2: "cACompromise",
  3: "affiliationChanged",
  4: "superseded",
  5: "cessationOfOperation",
  6: "certificateHold",
  9: "privilegeWithdrawn",
  10: "aACompromise",
};

/** The certificate's facts read back from its DER, and its revocation from the CRL's DER (after checking the CRL's signature). */
export async function certificateFacts(
  certDer: ArrayBuffer,
  ca?: x509.X509Certificate,
  crlDer?: ArrayBuffer,
): Promise<SigningCertificateFacts> {
  const cert = new x509.X509Certificate(certDer);
  const facts: SigningCertificateFacts = {
    serial: cert.serialNumber.toLowerCase(),
    subject: cert.subject,
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
  };
  if (crlDer && ca) {
    const crl = new x509.X509Crl(crlDer);
    if (!(await crl.verify({ publicKey: await ca.publicKey.export() })))
      throw new Error("CRL signature does not verify");
    const entry = crl.entries.find((e) => e.serialNumber.toLowerCase() === facts.serial);
    if (entry)
      facts.revocation = {
        date: entry.revocationDate.getTime(),
        ...(entry.reason !== undefined ? { reason: REASON_NAMES[entry.reason]! } : {}),
      };
  }
  return facts;
}
