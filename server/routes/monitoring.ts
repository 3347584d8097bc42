/**
 * Key-usage monitoring over HTTP: `GET /v1/alerts` (an issuer sees its own alerts, the operator
 * all) and `POST /v1/admin/reconcile` (operator: match CloudTrail's Sign calls against Kakunin's
 * recorded signatures now, instead of waiting for the next scheduled run).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { bearerSecurity, errorResponses as E, router } from "../http/openapi.js";
import { DecimalInteger } from "../http/schemas.js";
import { ALERT_KINDS, type AlertKind } from "../monitoring/alert.js";

const MAX_PAGE = 500;

const AlertSchema = z
  .object({
    id: z.string().openapi({ example: "alr_3f0c6d2b9a81e4c7d5f60a12" }),
    time: z.string(),
    issuerId: z.string().nullable(),
    agentId: z.string().nullable(),
    keyArn: z.string().nullable(),
    kind: z.enum(ALERT_KINDS as [AlertKind, ...AlertKind[]]),
    severity: z.enum(["info", "warning", "high", "critical"]),
    summary: z.string(),
    evidence: z
      .record(z.string(), z.unknown())
      .openapi({ description: "Counts, baseline, token id, source address, KMS request ids" }),
  })
  .openapi("Alert");

const isoTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/, "must be an ISO 8601 UTC time");

const listAlerts = createRoute({
  operationId: "listAlerts",
  method: "get",
  path: "/v1/alerts",
  tags: ["monitoring"],
  summary: "Key-usage alerts, newest first (paged)",
  description:
    "An issuer token sees the alerts about its own agents; the operator token sees every alert (also those about the CA and log keys). Filter by agent, kind and time (inclusive); follow `next` with `before` for older alerts.",
  security: bearerSecurity,
  middleware: [requireRole("issuer", "operator")],
  request: {
    query: z.object({
      agent: z
        .string()
        .max(256)
        .optional()
        .openapi({ param: { name: "agent", in: "query" } }),
      kind: z
        .enum(ALERT_KINDS as [AlertKind, ...AlertKind[]])
        .optional()
        .openapi({ param: { name: "kind", in: "query" } }),
      since: isoTime.optional().openapi({ param: { name: "since", in: "query" }, example: "2026-12-02T00:00:00Z" }),
      until: isoTime.optional().openapi({ param: { name: "until", in: "query" } }),
      before: z
        .string()
        .max(512)
        .optional()
        .openapi({ param: { name: "before", in: "query" }, description: "the `next` of the previous page" }),
      limit: DecimalInteger(1, MAX_PAGE)
        .optional()
        .openapi({ param: { name: "limit", in: "query" }, description: `at most ${MAX_PAGE}, default 100` }),
    }),
  },
  responses: {
    200: {
      description: "A page of alerts; `next` is the `before` of the next (older) page",
      content: {
        "application/json": {
          schema: z.object({ alerts: z.array(AlertSchema), next: z.string().nullable() }).openapi("AlertsPage"),
        },
      },
    },
    400: E[400],
    401: E[401],
    403: E[403],
  },
});

const ReconcileReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    logFilesRead: z.number().int(),
    digestFilesSkipped: z.number().int(),
    kmsEvents: z.number().int(),
    signEvents: z.number().int(),
    matched: z.number().int(),
    unlogged: z.number().int(),
    pending: z.number().int(),
    refused: z.number().int(),
    unresolved: z.number().int(),
    foreign: z.number().int(),
    problems: z.array(z.string()),
    alerts: z.array(AlertSchema),
  })
  .openapi("ReconcileReport");

const reconcile = createRoute({
  operationId: "reconcileKeyUsage",
  method: "post",
  path: "/v1/admin/reconcile",
  tags: ["monitoring"],
  summary: "Match CloudTrail's KMS Sign calls against Kakunin's recorded signatures now",
  description:
    "Operator only. Reads the CloudTrail files delivered since the last run (KAKUNIN_CLOUDTRAIL) and reports each Sign on a Kakunin key that Kakunin did not make as an `unlogged-signature` alert naming its CloudTrail request id. Signs younger than the grace (60 s) are judged on a later run. 404 when no CloudTrail location is configured.",
  security: bearerSecurity,
  middleware: [requireRole("operator")],
  responses: {
    200: {
      description: "What the run read and found",
      content: { "application/json": { schema: ReconcileReportSchema } },
    },
    401: E[401],
    403: E[403],
    404: E[404],
    503: E[503],
  },
});

/** `before` cursors: base64url of "<time> <id>" of the last alert of a page. */
function encodeCursor(time: string, id: string): string {
  return Buffer.from(`${time} ${id}`).toString("base64url");
}
function decodeCursor(raw: string): { time: string; id: string } {
  const [time, id, ...rest] = Buffer.from(raw, "base64url").toString("utf8").split(" ");
  if (!time || !id || rest.length > 0 || !/^alr_[0-9a-f]{24}$/.test(id) || Number.isNaN(Date.parse(time)))
    throw new ValidationError("before is not a cursor this server gave out", { field: "before" });
  return { time, id };
}

export function monitoringRoutes() {
  const app = router();
  app.openapi(listAlerts, async (c) => {
    const monitoring = c.get("deps").monitoring;
    if (!monitoring) throw new NotFoundError("Key-usage monitoring is not enabled");
    const principal = c.get("principal");
    const q = c.req.valid("query");
    const limit = q.limit ?? 100;
    const alerts = await monitoring.alerts.list({
      ...(principal.role === "operator" ? {} : { issuerId: principal.issuerId }),
      ...(q.agent !== undefined ? { agentId: q.agent } : {}),
      ...(q.kind !== undefined ? { kind: q.kind } : {}),
      ...(q.since !== undefined ? { since: new Date(q.since).toISOString() } : {}),
      ...(q.until !== undefined ? { until: new Date(q.until).toISOString() } : {}),
      ...(q.before !== undefined ? { before: decodeCursor(q.before) } : {}),
      limit,
    });
    const last = alerts.length === limit ? alerts[alerts.length - 1] : undefined;
    return c.json({ alerts, next: last ? encodeCursor(last.time, last.id) : null }, 200);
  });
  app.openapi(reconcile, async (c) => {
    const monitoring = c.get("deps").monitoring;
    const report = await monitoring?.reconcile();
    if (!report) throw new NotFoundError("Reconciliation is not configured (KAKUNIN_CLOUDTRAIL)");
    return c.json(report, 200);
  });
  return app;
}
