/**
 * Validation reports in the shape of the EU DSS library's reports (ETSI EN 319 102-1): a *simple*
 * report (the verdict and what it rests on) and a *detailed* report (one entry per building
 * block). Field by field in verifier/FORMATS.md, "Validation reports".
 */
import type { ControlTime, ProofOfExistence, TokenAssessment } from "../timestamp/poe-types.js";

/** ETSI EN 319 102-1 main indication (same strings as the `Verdict` of report.ts). */
export type Indication = "PASSED" | "FAILED" | "INDETERMINATE";

/** ETSI EN 319 102-1 sub-indications used by Kakunin (EXPIRED_NO_POE is ETSI's OUT_OF_BOUNDS_NO_POE). */
export type SubIndication =
  | "FORMAT_FAILURE"
  | "HASH_FAILURE"
  | "SIG_CRYPTO_FAILURE"
  | "NOT_YET_VALID"
  | "NO_SIGNING_CERTIFICATE_FOUND"
  | "NO_CERTIFICATE_CHAIN_FOUND"
  | "CHAIN_CONSTRAINTS_FAILURE"
  | "CERTIFICATE_CHAIN_GENERAL_FAILURE"
  | "TRY_LATER"
  | "REVOKED_NO_POE"
  | "EXPIRED_NO_POE"
  | "SIGNED_DATA_NOT_FOUND";

/** The outcome of one building block as the check that ran it reports it. */
export interface BlockOutcome {
  indication: Indication;
  subIndication?: SubIndication;
  /** `OK`, or the stable ERR_… code of the deciding problem. */
  code?: string;
  message?: string;
}

/** A building block in the detailed report: its outcome, or NOT_EVALUATED when an earlier block already decided. */
export interface BuildingBlock {
  indication: Indication | "NOT_EVALUATED";
  subIndication?: SubIndication;
  code?: string;
  message?: string;
}

/** Who signed: the signing certificate and what Kakunin says about it. */
export interface SignerIdentity {
  /** Lowercase hex serial without sign byte. */
  serial: string;
  subject?: string;
  /** The agent (SPIFFE-style URI SAN) or "log signer". */
  agent?: string;
  issuer?: string;
  /** SHA-256 of the certificate DER, lowercase hex. */
  fingerprint?: string;
  notBefore?: string;
  notAfter?: string;
}

/** One certificate of the X.509 chain, signer first, trust anchor last. */
export interface ChainCertificate {
  subject?: string;
  serial: string;
  fingerprint?: string;
  notBefore?: string;
  notAfter?: string;
  /** True for the pinned trust anchor. */
  trustAnchor?: boolean;
}

/** The revocation data that was used. */
export interface RevocationFacts {
  status: "good" | "revoked" | "unknown";
  /** When revoked: the CRL's revocationDate (ISO 8601) and reasonCode name. */
  date?: string;
  reason?: string;
  /** The CRL that decided (the newest valid one available) and whether it is past its nextUpdate. */
  crl?: { number: string; thisUpdate: string; nextUpdate?: string; source: string; stale: boolean };
}

/** The best proof of existence, as the simple report shows it. */
export interface BestPoe {
  /** genTime of the timestamp (ISO 8601). */
  time: string;
  /** genTime + accuracy: the latest the signature can have been made, by this proof. */
  latest: string;
  /** The TSA certificate's subject. */
  tsa: string;
  checkpoint: { origin: string; size: number };
  /** True when this proof decided the verdict (past signature validation). */
  decisive: boolean;
}

export interface SimpleReport {
  format: "kakunin-simple-report/1";
  validationTime: string;
  verdict: Indication;
  reason?: SubIndication;
  message: string;
  signer: SignerIdentity;
  /** The time the signed data claims (the entry's `time`); not a proof of anything. */
  claimedSigningTime?: string;
  /** The earliest proof of existence, or null when there is none. */
  bestPoe: BestPoe | null;
}

export interface DetailedReport {
  format: "kakunin-detailed-report/1";
  validationTime: string;
  verdict: Indication;
  reason?: SubIndication;
  message: string;
  claimedSigningTime?: string;
  blocks: {
    format: BuildingBlock;
    identification: BuildingBlock & { signer: SignerIdentity };
    x509Chain: BuildingBlock & { chain: ChainCertificate[] };
    revocationFreshness: BuildingBlock & { revocation: RevocationFacts };
    cryptographic: BuildingBlock & { algorithm?: string };
    pastSignatureValidation: BuildingBlock & { control: ControlTime | null; decidingPoe?: ProofOfExistence };
    /** Kakunin's blocks beyond ETSI's (log inclusion, witness quorum, validity period, payload), in order. */
    additional?: (BuildingBlock & { name: string })[];
  };
  /** Every timestamp offered as proof of existence, and what became of it. */
  poe: { best?: ProofOfExistence; tokens: TokenAssessment[] };
}

export interface ValidationReports {
  simple: SimpleReport;
  detailed: DetailedReport;
}
