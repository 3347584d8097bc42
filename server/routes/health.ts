import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "kysely";
import { router } from "../http/openapi.js";

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

export function healthRoutes() {
  const app = router();
  app.openapi(health, async (c) => {
    const { db, now } = c.get("deps");
    await sql`select 1`.execute(db);
    return c.json({ status: "ok" as const, time: now().toISOString() }, 200);
  });
  return app;
}
