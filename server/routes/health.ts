import { createRoute, z } from "@hono/zod-openapi";
import { pingDatabase, readiness } from "../authority/readiness.js";
import { router } from "../http/openapi.js";

const health = createRoute({
  method: "get",
  operationId: "getHealth",
  description:
    "Liveness probe: answers 200 once the database answers a trivial query. Public, no token; suitable for load balancers.",
  path: "/healthz",
  tags: ["public"],
  summary: "Liveness and database check",
  responses: {
    200: {
      description: "OK",
      content: { "application/json": { schema: z.object({ status: z.literal("ok"), time: z.string() }) } },
    },
  },
});

const Dependency = z.object({
  state: z.enum(["ok", "degraded", "unknown"]),
  since: z.string().optional(),
  lastError: z.string().optional(),
});
const Readiness = z
  .object({
    status: z.enum(["ready", "degraded"]),
    time: z.string(),
    dependencies: z.object({ database: Dependency, kms: Dependency }),
  })
  .openapi("Readiness");

const ready = createRoute({
  method: "get",
  operationId: "getReadiness",
  description:
    "Readiness probe: the state of each dependency (database, KMS). Reads keep working while KMS is degraded; appends and lifecycle calls answer 503 until it recovers. Public, no token.",
  path: "/readyz",
  tags: ["public"],
  summary: "Readiness of each dependency (database, KMS)",
  responses: {
    200: { description: "Every dependency answers", content: { "application/json": { schema: Readiness } } },
    503: { description: "A dependency is degraded", content: { "application/json": { schema: Readiness } } },
  },
});

export function healthRoutes() {
  const app = router();
  app.openapi(health, async (c) => {
    const deps = c.get("deps");
    await pingDatabase(deps);
    return c.json({ status: "ok" as const, time: deps.now().toISOString() }, 200);
  });
  app.openapi(ready, async (c) => {
    const deps = c.get("deps");
    const { degraded, database, kms } = await readiness(deps);
    const body = {
      status: degraded ? ("degraded" as const) : ("ready" as const),
      time: deps.now().toISOString(),
      dependencies: { database, kms },
    };
    if (degraded) {
      c.header("retry-after", "2");
      return c.json(body, 503);
    }
    return c.json(body, 200);
  });
  return app;
}
