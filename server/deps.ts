import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Database } from "./db/schema.js";
import type { DialectName } from "./db/connect.js";
import type { KeyCustody } from "./kms/custody.js";
import type { CertificateAuthority } from "./ca/authority.js";
import type { AuditLog } from "./log/audit-log.js";
import type { KeyUsageMonitoring } from "./monitoring/wiring/key-usage-monitoring.js";

/** Everything a request handler needs; injected per app (no module-level singletons). */
export interface AppDeps {
  config: Config;
  db: Kysely<Database>;
  dialect: DialectName;
  custody: KeyCustody;
  ca: CertificateAuthority;
  logSigner: { keyArn: string; certSerial: string; certificatePem: string };
  /** The audit log; lifecycle routes call `appendLifecycle` as their last step (unset only in tests of the API alone). */
  log?: AuditLog;
  logger: Logger;
  now: () => Date;
  /** Key-usage monitoring (detectors, reconciliation, alerts); unset only in tests of the API alone. */
  monitoring?: KeyUsageMonitoring;
}
