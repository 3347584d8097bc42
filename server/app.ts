import { randomUUID } from "node:crypto";
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import type { AppDeps } from "./deps.js";
import type { AppEnv } from "./http/env.js";
import { defaultHook } from "./http/openapi.js";
import { onError, problemResponse } from "./http/problem.js";
import { closeIfBodyUnread } from "./http/body.js";
import { healthRoutes } from "./routes/health.js";
import { issuerRoutes } from "./routes/issuers.js";
import { agentRoutes } from "./routes/agents.js";
import { publicRoutes } from "./routes/public.js";
import { docsRoutes } from "./routes/docs.js";
import { operationRoutes } from "./routes/operations.js";
import { logRoutes } from "./routes/log.js";
import { monitoringRoutes } from "./routes/monitoring.js";
import { observeAgentRequests } from "./monitoring/wiring/observe-requests.js";
import { tlogRoutes } from "./routes/tlog.js";
import { checkpointTimestampRoutes } from "./routes/checkpoint-timestamps.js";
import { logKeyRoutes } from "./routes/log-key.js";

export type RouteModule = { prefix: string; app: () => OpenAPIHono<AppEnv> };

/** Mounted resource sub-apps, one per resource; auth, errors and OpenAPI are shared by all. */
export const routeModules: RouteModule[] = [
  { prefix: "/", app: healthRoutes },
  { prefix: "/v1/issuers", app: issuerRoutes },
  { prefix: "/v1/agents", app: agentRoutes },
  { prefix: "/v1/public", app: publicRoutes },
  // The audit log's routes span several prefixes (/v1/agents/{id}/operations, /v1/log, /v1/public/issuers).
  { prefix: "/", app: operationRoutes },
  { prefix: "/", app: logRoutes },
  // Key-usage monitoring: /v1/alerts, /v1/admin/reconcile.
  { prefix: "/", app: monitoringRoutes },
  // Log v2: /v1/logs/…, /v1/public/log-keys, /v1/log/entries/{seq}/receipt.
  { prefix: "/", app: tlogRoutes },
  // Log v2 checkpoint timestamps: /v1/logs/{issuer}/checkpoint.tsr and …/timestamped-checkpoint.
  { prefix: "/", app: checkpointTimestampRoutes },
  // Log v2 key rotation (operator): /v1/admin/log-key/rotate.
  { prefix: "/", app: logKeyRoutes },
];

export function createApp(deps: AppDeps, extraRoutes: RouteModule[] = []): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook });

  app.use("*", async (c, next) => {
    const requestId = c.req.header("x-request-id")?.slice(0, 64) || randomUUID();
    c.set("deps", deps);
    c.set("requestId", requestId);
    const started = performance.now();
    await next();
    // Set on the finished response's headers rather than with c.header(): after the handler,
    // c.header() rebuilds the response from its body, which turns @hono/node-server's lightweight
    // response into a full undici Response with a web stream (≈ 0.05 ms more per request).
    try {
      c.res.headers.set("x-request-id", requestId);
    } catch {
      c.header("x-request-id", requestId); // immutable headers (a proxied fetch Response): rebuild
    }
    // Request log: method, path, status, duration. Never headers or bodies.
    deps.logger.info(
      {
        reqId: requestId,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      "request",
    );
  });
  app.use("/v1/public/*", cors({ origin: "*", allowMethods: ["GET", "HEAD", "OPTIONS"] }));
  app.use("/healthz", cors({ origin: "*", allowMethods: ["GET", "HEAD", "OPTIONS"] }));
  // Bodies are read by requireRole, after authentication (server/http/body.ts); a response sent
  // before that closes the connection instead of receiving the rest.
  app.use("*", closeIfBodyUnread());
  // Key-usage monitoring hears what happened on an agent's routes once the handler has answered.
  app.use("/v1/agents/:id/*", observeAgentRequests());

  for (const m of [...routeModules, ...extraRoutes]) app.route(m.prefix, m.app());

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "kkn_op_… (operator), kkn_iss_… (issuer) or kkn_agt_… (agent) token",
  });
  app.route("/", docsRoutes(app, deps.config.publicUrl)); // /openapi.json and /docs

  app.notFound((c) => problemResponse(c, 404, "ERR_NOT_FOUND", `No route for ${c.req.method} ${c.req.path}`));
  app.onError(onError);
  return app;
}
