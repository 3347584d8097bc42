import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Database } from "./db/schema.js";
import type { DialectName } from "./db/connect.js";
import type { KeyCustody } from "./kms/custody.js";
import type { CertificateAuthority } from "./ca/authority.js";
import type { AuditLog } from "./log/audit-log.js";
import type { KeyUsageMonitoring } from "./monitoring/wiring/key-usage-monitoring.js";
import type { CheckpointKey } from "./log/tree/log-key.js";
import type { LogV2 } from "./log/tree/log-v2.js";
import type { CheckpointTrust } from "./log/checkpoint-trust.js";
import type { SigningRateLimiter } from "./authority/signing-rate.js";

/** Everything a request handler needs; injected per app (no module-level singletons). */
export interface AppDeps {
  config: Config;
  db: Kysely<Database>;
  dialect: DialectName;
  custody: KeyCustody;
  ca: CertificateAuthority;
  logSigner: { keyArn: string; certSerial: string; certificatePem: string };
  /** Log v2: the Ed25519 KMS key that signed every issuer's checkpoints at start-up (a rotation replaces it in the database; the log reads it from there: server/authority/log-keys.ts). */
  checkpointKey: CheckpointKey;
  /** Log v2 (trees, checkpoints, proofs, tiles); unset only without the audit log. */
  logV2?: LogV2;
  /** Witnesses and TSAs around log v2 checkpoints (quorum of a note, checkpoint.tsr, receipt timestamps); unset without the audit log. */
  checkpointTrust?: CheckpointTrust;
  /** The audit log; lifecycle routes call `appendLifecycle` as their last step (unset only in tests of the API alone). */
  log?: AuditLog;
  logger: Logger;
  now: () => Date;
  /** The per-agent signing-rate limits of the issuers that set one (in this process's memory). */
  signingRates: SigningRateLimiter;
  /** Key-usage monitoring (detectors, reconciliation, alerts); unset only in tests of the API alone. */
  monitoring?: KeyUsageMonitoring;
}
