/**
 * Inputs and result of past signature validation (ETSI EN 319 102-1 §5.6.2.4) with RFC 3161
 * timestamps over log checkpoints as the proofs of existence (POE).
 */
import type { TsaRevocationResult } from "./tsa-revocation.js";

/** The signing certificate as the X.509 path and CRL checks established it (epoch milliseconds). */
export interface SigningCertificateFacts {
  serial: string;
  subject?: string;
  notBefore: number;
  notAfter: number;
  /** The CRL in force lists this serial: its revocationDate (1-second precision) and reasonCode name. */
  revocation?: { date: number; reason?: string };
}

/** An inclusion proof the caller has verified: entry `leafIndex` is in the tree of `treeSize` leaves whose root is `rootHash`. */
export interface VerifiedInclusion {
  leafIndex: number;
  treeSize: number;
  rootHash: Uint8Array;
}

/** Timestamps over one checkpoint, and that checkpoint's coverage of the entry. */
export interface CheckpointEvidence {
  /** The checkpoint note body the log key signs (origin, size, root, extension lines; no signature lines), exactly as timestamped. */
  checkpointText: string;
  /** The entry's inclusion in this checkpoint's tree, verified by the caller; absent = the checkpoint is not shown to cover the entry. */
  inclusion?: VerifiedInclusion;
  /** DER TimeStampTokens whose imprint should be SHA-256 of `checkpointText`. */
  tokens: readonly Uint8Array[];
}

/** The relying party's TSA policy: the `--tsa` bundle (or the portal's build-time policy). */
export interface TsaPolicy {
  /** Pinned TSA certificates (TSA CAs or TSA certificates), DER. */
  trusted: readonly Uint8Array[];
  /** CRLs for the TSA path, DER; without one a TSA certificate's revocation status is `unknown`. */
  crls?: readonly Uint8Array[];
  /** When given, a token's TSAPolicyId must be one of these. */
  acceptedPolicies?: readonly string[];
  /** When true, a token whose TSA revocation status is unknown is rejected (default false: reported only). */
  requireRevocationData?: boolean;
}

export interface PastSignatureInput {
  certificate: SigningCertificateFacts;
  evidence: readonly CheckpointEvidence[];
  tsa: TsaPolicy;
  /** The validation time (an injected clock: tests and "as of" validation). */
  now: Date;
}

export type PsvIndication = "PASSED" | "INDETERMINATE" | "FAILED";

/**
 * ETSI EN 319 102-1 sub-indications used here. EXPIRED_NO_POE is Kakunin's name for ETSI's
 * OUT_OF_BOUNDS_NO_POE (the certificate's validity ended and nothing proves the signature is older).
 */
export type PsvSubIndication =
  "REVOKED_NO_POE" | "EXPIRED_NO_POE" | "NOT_YET_VALID" | "FORMAT_FAILURE" | "HASH_FAILURE" | "SIG_CRYPTO_FAILURE";

/** A proof that the entry existed at a time: a verified timestamp over a checkpoint covering it. */
export interface ProofOfExistence {
  /** The token's genTime (ISO 8601). */
  time: string;
  /** genTime + accuracy: the latest instant the token can have been made. This is what is compared. */
  latest: string;
  accuracyMs?: number;
  /** The TSA: subject of the signing certificate, its serial, the token's policy and serialNumber. */
  tsa: { name: string; certificateSerial: string; policy: string; tokenSerial: string };
  /** The checkpoint the token is over (its origin, size and base64 root), by index in `evidence`. */
  checkpoint: { evidence: number; origin: string; size: number; root: string };
  /** Index of the token within its evidence. */
  token: number;
}

/** What became of one token. */
export interface TokenAssessment {
  evidence: number;
  token: number;
  /** `accepted`: a proof of existence that decides or could; `rejected`: not usable (reason in code); `tampered`: its bytes do not verify. */
  status: "accepted" | "rejected" | "tampered";
  /** `OK`, an `ERR_TSA_*` code of the timestamp client, or an `ERR_POE_*` code (FORMATS.md). */
  code: string;
  message: string;
  /** The proof, once the token itself verified (also on a token rejected only for its time). */
  poe?: ProofOfExistence;
  tsaRevocation?: TsaRevocationResult;
}

/** What the proof of existence had to precede. */
export interface ControlTime {
  kind: "revocation" | "expiry";
  /** ISO 8601: the start of the revocation's second, or notAfter. A POE counts when its `latest` is strictly before. */
  time: string;
  /** reasonCode of the revocation. */
  reason?: string;
}

export interface PastSignatureResult {
  indication: PsvIndication;
  subIndication?: PsvSubIndication;
  message: string;
  /** Null when the certificate is within its validity and not revoked at `now`: no POE is needed. */
  control: ControlTime | null;
  /** The earliest proof that satisfies the control time (PASSED by past signature validation). */
  decidingPoe?: ProofOfExistence;
  /** The earliest proof of existence found at all (ETSI "best-signature-time"). */
  bestPoe?: ProofOfExistence;
  tokens: TokenAssessment[];
}
