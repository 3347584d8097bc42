import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "kysely";
import { router } from "../http/openapi.js";
import type { AppDeps } from "../deps.js";
import type { KmsHealthReport } from "../kms/health.js";

/** /readyz probes KMS itself only when no call has told it anything for this long. */
export const KMS_PROBE_AFTER_MS = 5_000;

const health = createRoute({
  method: "get",
  operationId: "getHealth", description: "Liveness probe: answers 200 once the database answers a trivial query. Public, no token; suitable for load balancers.",
  path: "/healthz",
  tags: ["public"],
  summary: "Liveness and database check",
  responses: {
    200: { description: "OK", content: { "application/json": { schema: z.object({ status: z.literal("ok"), time: z.string() }) } } },
  },
});

const Dependency = z.object({ state: z.enum(["ok", "degraded", "unknown"]), since: z.string().optional(), lastError: z.string().optional() });
const Readiness = z.object({ status: z.enum(["ready", "degraded"]), time: z.string(), dependencies: z.object({ database: Dependency, kms: Dependency }) }).openapi("Readiness");

const ready = createRoute({
  method: "get",
  operationId: "getReadiness", description: "Readiness probe: the state of each dependency (database, KMS). Reads keep working while KMS is degraded; appends and lifecycle calls answer 503 until it recovers. Public, no token.",
  path: "/readyz",
  tags: ["public"],
  summary: "Readiness of each dependency (database, KMS)",
  responses: {
    200: { description: "Every dependency answers", content: { "application/json": { schema: Readiness } } },
    503: { description: "A dependency is degraded", content: { "application/json": { schema: Readiness } } },
  },
});

const probes = new WeakMap<object, Promise<void>>();

/** What KMS looks like now: the last calls' outcome, refreshed by one bounded probe (shared by concurrent callers) when stale. */
async function kmsState(deps: AppDeps): Promise<KmsHealthReport> {
  const h = deps.custody.health;
  if (h.age > KMS_PROBE_AFTER_MS) {
    let probe = probes.get(h);
    if (!probe) {
      probe = deps.custody.describeKey(deps.logSigner.keyArn).then(() => undefined, () => undefined).finally(() => probes.delete(h));
      probes.set(h, probe);
    }
    await probe; // bounded by the KMS call timeout
  }
  return h.report();
}

export function healthRoutes() {
  const app = router();
  app.openapi(health, async (c) => {
    const { db, now } = c.get("deps");
    await sql`select 1`.execute(db);
    return c.json({ status: "ok" as const, time: now().toISOString() }, 200);
  });
  app.openapi(ready, async (c) => {
    const deps = c.get("deps");
    let database: KmsHealthReport = { state: "ok" };
    try {
      await sql`select 1`.execute(deps.db);
    } catch (e) {
      database = { state: "degraded", lastError: (e as Error).name };
    }
    const kms = await kmsState(deps);
    const degraded = database.state === "degraded" || kms.state === "degraded";
    const body = { status: degraded ? ("degraded" as const) : ("ready" as const), time: deps.now().toISOString(), dependencies: { database, kms } };
    if (degraded) {
      c.header("retry-after", "2");
      return c.json(body, 503);
    }
    return c.json(body, 200);
  });
  return app;
}
