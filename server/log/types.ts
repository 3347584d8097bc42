/** Wire types of the audit log (verifier/FORMATS.md is authoritative). */

export const ENTRY_ALG = "RSASSA_PSS_SHA_256" as const;

export interface SignerRef {
  /** certificate serial, lowercase hex */
  cert: string;
  /** KMS key ARN */
  key: string;
  alg: typeof ENTRY_ALG;
}

export type LifecycleType = "agent.registered" | "key.rotated" | "certificate.revoked";
export type EntryType = "agent.operation" | LifecycleType;

/** The entry without `hash` and `sig`: exactly what is canonicalised, hashed and signed. */
export interface UnsignedEntry {
  v: 1;
  seq: number;
  time: string;
  type: EntryType;
  issuer: string;
  agent: string;
  signer: SignerRef;
  payloadHash: string;
  prevHash: string;
  details?: Record<string, unknown>;
}

export interface LogEntry extends UnsignedEntry {
  hash: string;
  sig: string;
}

export interface UnsignedCheckpoint {
  issuer: string;
  size: number;
  head: string;
  time: string;
  signer: SignerRef;
}

export interface Checkpoint extends UnsignedCheckpoint {
  sig: string;
}

export interface Receipt {
  format: "kakunin-receipt/1";
  entry: LogEntry;
  /** [agent certificate PEM, CA certificate PEM] */
  certificates: [string, string];
  crl?: string;
  checkpoint?: Checkpoint;
}

/** A stored payload: JSON (its RFC 8785 bytes) or raw bytes. */
export interface StoredPayload {
  kind: "json" | "bytes";
  data: Uint8Array;
}

/** What signs an entry or checkpoint: the digest-signing part of KeyCustody. */
export interface DigestSigner {
  signDigest(arn: string, digest: Uint8Array, alg: "RSASSA_PSS_SHA_256"): Promise<Uint8Array>;
  /** KeyCustody's view of KMS: while degraded, reads serve what is already signed instead of calling KMS. */
  readonly health?: { readonly degraded: boolean };
}

/** The log signer (its own KMS key and certificate from the CA). */
export interface LogSignerInfo {
  keyArn: string;
  certSerial: string;
  certificatePem: string;
}
