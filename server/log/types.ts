/**
 * Types of the audit log. The wire formats (entries, checkpoints, receipts) are defined once, in
 * `@kakunin/verifier/formats` (verifier/FORMATS.md is the prose); the rest is the server's own.
 */
export { ENTRY_ALG, RECEIPT_V2_FORMAT } from "@kakunin/verifier/formats";
export type {
  Checkpoint,
  EntryType,
  LifecycleType,
  LogEntry,
  Receipt,
  ReceiptV2,
  SignerRef,
  UnsignedCheckpoint,
  UnsignedEntry,
} from "@kakunin/verifier/formats";

/** A stored payload: JSON (its RFC 8785 bytes) or raw bytes. */
export interface StoredPayload {
  kind: "json" | "bytes";
  data: Uint8Array;
}

/** What signs an entry or checkpoint: the digest-signing part of KeyCustody. */
export interface DigestSigner {
  signDigest(arn: string, digest: Uint8Array, alg: "RSASSA_PSS_SHA_256"): Promise<Uint8Array>;
  /** Sign with the KMS request id (stored with the entry for reconciliation with CloudTrail). */
  signDigestWithRequestId?(
    arn: string,
    digest: Uint8Array,
    alg: "RSASSA_PSS_SHA_256",
  ): Promise<{ signature: Uint8Array; requestId: string | undefined }>;
  /** KeyCustody's view of KMS: while degraded, reads serve what is already signed instead of calling KMS. */
  readonly health?: { readonly degraded: boolean };
}

/** The log signer (its own KMS key and certificate from the CA). */
export interface LogSignerInfo {
  keyArn: string;
  certSerial: string;
  certificatePem: string;
}
