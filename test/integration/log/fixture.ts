/**
 * The log suites' fixture: the API in process (test/helpers/app.ts: a real local KMS process, a
 * real database — a SQLite file, or a throwaway PostgreSQL database — the real bootstrap and
 * createApp), plus the independent chain checks of test/helpers/chain-checks.ts (links recomputed
 * there, signatures with the openssl CLI). The names the log suites import, in one place.
 */
import type { Services } from "../../../server/bootstrap.js";
import { startInProcessApi, TEST_OPERATOR_TOKEN, type InProcessApi } from "../../helpers/app.js";
import type { DbKind } from "../../helpers/database.js";
import type { LocalKms, StartLocalKmsOptions } from "../../helpers/kms.js";

export {
  addAgent,
  httpCaller,
  setupIssuer,
  startSecondInstance,
  type Call,
  type CallResult,
} from "../../helpers/app.js";
export {
  chainProblems,
  jcs,
  opensslVerifyAll,
  opensslVerifyExport,
  parseExport,
  withoutHashSig,
} from "../../helpers/chain-checks.js";
export { testDatabase, type DbKind } from "../../helpers/database.js";

export const OPERATOR_TOKEN = TEST_OPERATOR_TOKEN;

export type LogFixture = InProcessApi;

export function createLogFixture(
  opts: {
    db?: DbKind;
    kms?: StartLocalKmsOptions;
    existingKms?: LocalKms;
    env?: Record<string, string>;
    kmsMaxAttempts?: number;
  } = {},
): Promise<LogFixture> {
  return startInProcessApi({
    ...(opts.db ? { db: opts.db } : {}),
    ...((opts.existingKms ?? opts.kms) ? { kms: opts.existingKms ?? opts.kms } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.kmsMaxAttempts !== undefined ? { kmsMaxAttempts: opts.kmsMaxAttempts } : {}),
  });
}

export function caPem(services: Services): string {
  return services.deps.ca.certificatePem;
}
