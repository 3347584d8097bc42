/**
 * The v1 wire formats as types: the one TypeScript description of what FORMATS.md says in prose.
 * The server writes exactly these; its zod/OpenAPI schemas are checked against them at compile
 * time (test/unit/formats/wire-schemas.test.ts); the verifier reads untrusted input into its own
 * checked view of the same fields (parse/entry.ts). Extend, never rename or reinterpret.
 */

/** The only signature algorithm of entries and checkpoints (KMS name): RSASSA-PSS, SHA-256, salt 32. */
export const ENTRY_ALG = "RSASSA_PSS_SHA_256" as const;
export const RECEIPT_FORMAT = "kakunin-receipt/1" as const;
export const RECEIPT_V2_FORMAT = "kakunin-receipt/2" as const;
export const EXPORT_FORMAT = "kakunin-log/1" as const;

/** Entry types signed by the log signer. */
export const LIFECYCLE_TYPES = ["agent.registered", "key.rotated", "certificate.revoked", "key.anomaly"] as const;
export type LifecycleType = (typeof LIFECYCLE_TYPES)[number];
const LIFECYCLE_TYPE_SET: ReadonlySet<string> = new Set(LIFECYCLE_TYPES);
export function isLifecycleType(type: string): type is LifecycleType {
  return LIFECYCLE_TYPE_SET.has(type);
}
/** The entry types this version writes. Readers accept others (the format is extended, never reinterpreted). */
export const ENTRY_TYPES = ["agent.operation", ...LIFECYCLE_TYPES] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

/** Who signed an entry or checkpoint. */
export interface SignerRef {
  /** Certificate serial, lowercase hex. */
  cert: string;
  /** KMS key ARN. */
  key: string;
  alg: typeof ENTRY_ALG;
}

/** The entry without `hash` and `sig`: exactly what is canonicalised, hashed and signed. */
export interface UnsignedEntry {
  v: 1;
  seq: number;
  /** RFC 3339 UTC with milliseconds. */
  time: string;
  /** One of {@link ENTRY_TYPES} when this version wrote it. */
  type: string;
  issuer: string;
  agent: string;
  signer: SignerRef;
  /** Lowercase hex SHA-256 of the payload (lifecycle entries: of JCS(details)). */
  payloadHash: string;
  /** `hash` of entry seq − 1; {@link ZERO_HASH} for seq 0. */
  prevHash: string;
  /** Absent or `{ contentType? }` for agent.operation; for lifecycle entries see {@link LifecycleContract}. */
  details?: Record<string, unknown>;
}

export interface LogEntry extends UnsignedEntry {
  /** Lowercase hex SHA-256 of the canonical bytes. */
  hash: string;
  /** Base64 RSASSA-PSS over the canonical bytes. */
  sig: string;
}

/**
 * The lifecycle detail fields verifiers rely on and cross-check, tagged with the entry's type
 * (FORMATS.md "Types and signers"); the other detail fields are informative.
 */
export type LifecycleContract =
  | { type: "agent.registered"; cert: string }
  | { type: "key.rotated"; oldCert: string; newCert: string }
  | { type: "certificate.revoked"; cert: string; reason: string };

export interface UnsignedCheckpoint {
  issuer: string;
  /** Number of entries covered; 0 for an empty chain. */
  size: number;
  /** `hash` of entry size − 1; {@link ZERO_HASH} when size is 0. */
  head: string;
  time: string;
  signer: SignerRef;
}

export interface Checkpoint extends UnsignedCheckpoint {
  sig: string;
}

export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  entry: LogEntry;
  /** The agent certificate PEM, then the CA certificate PEM (informative: trust is pinned). */
  certificates: string[];
  /** X509 CRL PEM, current when the receipt was made. */
  crl?: string;
  checkpoint?: Checkpoint;
}

/**
 * `kakunin-receipt/2` (FORMATS.md "Receipt (kakunin-receipt/2)"): every v1 member, plus the entry's
 * inclusion in a signed-note checkpoint and, optionally, RFC 3161 timestamps over that checkpoint.
 */
export interface ReceiptV2 extends Omit<Receipt, "format"> {
  format: typeof RECEIPT_V2_FORMAT;
  /**
   * A `c2sp.org/tlog-proof@v1` text: `index <seq>`, the inclusion proof hashes, an empty line, then
   * the checkpoint signed note verbatim (origin `<log name>/<issuer id>`, size, root; the log's
   * Ed25519 signature and every witness cosignature it has).
   */
  proof: string;
  /** Base64 DER TimeStampTokens over SHA-256 of the checkpoint's note text (without signature lines). */
  timestamps?: string[];
}

/** Export line 1 (`kakunin-log/1` NDJSON). */
export interface ExportHeaderLine {
  kind: "header";
  format: typeof EXPORT_FORMAT;
  issuer: string;
  exportedAt: string;
  /** Inclusive; `{ from: 0, to: -1 }` for an empty range. */
  range: { from: number; to: number };
  /** `hash` of entry from − 1, or {@link ZERO_HASH}. */
  prevHash: string;
  caCertificate: string;
  payloads: boolean;
}

/** One `certificate` line: every certificate an exported entry (or the checkpoint) references. Informative metadata. */
export interface CertificateLine {
  kind: "certificate";
  serial: string;
  pem: string;
  role: "agent" | "log";
  agent: string | null;
  status: "active" | "superseded" | "revoked";
  notBefore: string;
  notAfter: string;
  keyArn: string;
  keyState: "Enabled" | "Disabled";
  disabledAt: string | null;
  supersededAt: string | null;
  revokedAt: string | null;
  revocationReason: string | null;
}

export interface CrlLine {
  kind: "crl";
  pem: string;
}

export interface EntryLine {
  kind: "entry";
  entry: LogEntry;
}

/** The payload of the entry just before, when payloads are exported (absent when erased). */
export type PayloadLine =
  { kind: "payload"; seq: number; json: unknown } | { kind: "payload"; seq: number; base64: string };

export interface CheckpointLine {
  kind: "checkpoint";
  checkpoint: Checkpoint;
}

export type ExportLine = ExportHeaderLine | CertificateLine | CrlLine | EntryLine | PayloadLine | CheckpointLine;
