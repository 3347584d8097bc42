/** The state of the authority's dependencies (database, KMS), for the liveness and readiness probes. */
import { sql } from "kysely";
import type { AppDeps } from "../deps.js";
import type { KmsHealthReport } from "../kms/health.js";

/** /readyz probes KMS itself only when no call has told it anything for this long. */
export const KMS_PROBE_AFTER_MS = 5_000;

/** Dependency states as /readyz reports them; degraded when either one is. */
export interface Readiness {
  degraded: boolean;
  database: KmsHealthReport;
  kms: KmsHealthReport;
}

/** A trivial query; rejects when the database does not answer. */
export async function pingDatabase(deps: AppDeps): Promise<void> {
  await sql`select 1`.execute(deps.db);
}

const probes = new WeakMap<object, Promise<void>>();

/** What KMS looks like now: the last calls' outcome, refreshed by one bounded probe (shared by concurrent callers) when stale. */
async function kmsState(deps: AppDeps): Promise<KmsHealthReport> {
  const h = deps.custody.health;
  if (h.age > KMS_PROBE_AFTER_MS) {
    let probe = probes.get(h);
    if (!probe) {
      probe = deps.custody
        .describeKey(deps.logSigner.keyArn)
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => probes.delete(h));
      probes.set(h, probe);
    }
    await probe; // bounded by the KMS call timeout
  }
  return h.report();
}

/** The database (one trivial query) and KMS (recent calls, or a probe) states. */
export async function readiness(deps: AppDeps): Promise<Readiness> {
  let database: KmsHealthReport = { state: "ok" };
  try {
    await pingDatabase(deps);
  } catch (e) {
    database = { state: "degraded", lastError: (e as Error).name };
  }
  const kms = await kmsState(deps);
  return { degraded: database.state === "degraded" || kms.state === "degraded", database, kms };
}
