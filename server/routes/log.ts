/**
 * Audit log routes: reading entries, checkpoints (issuer and public), the NDJSON
 * export, and payload erasure.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { issuerOf, requireRole } from "../auth/middleware.js";
import type { AppDeps } from "../deps.js";
import { NotFoundError } from "../errors.js";
import { bearerSecurity, errorResponses as E, publicErrorResponses as PE, router } from "../http/openapi.js";
import { MAX_PAGE } from "../log/tuning.js";
import { DecimalInteger } from "../http/schemas.js";
import { CheckpointSchema, LogEntrySchema } from "../log/wire-schemas.js";

/** Set when a checkpoint or export does not cover what was asked (KMS could not sign a newer checkpoint). */
export const COVERAGE_HEADER = "kakunin-coverage";

const Seq = DecimalInteger(0, Number.MAX_SAFE_INTEGER);
const coverageHeader = {
  [COVERAGE_HEADER]: {
    description:
      "Present only when KMS could not sign a newer checkpoint: what is served ends at the latest signed checkpoint, before the log's current size",
    schema: { type: "string" as const, example: "partial; to=41; requested-to=57; log-size=58" },
  },
};
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const issuerOnly = [requireRole("issuer")];

const entries = createRoute({
  operationId: "listLogEntries",
  description:
    "Entries of the calling issuer's hash chain from `from` to `to` (inclusive), at most `limit` per page; follow `next` for the following page.",
  method: "get",
  path: "/v1/log/entries",
  tags: ["log"],
  summary: "Entries of the issuer's chain, by seq (inclusive, paged)",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: {
    query: z.object({
      from: Seq.optional().openapi({ param: { name: "from", in: "query" }, example: "0" }),
      to: Seq.optional().openapi({
        param: { name: "to", in: "query" },
        description: "inclusive; default the last entry",
      }),
      limit: DecimalInteger(1, MAX_PAGE)
        .optional()
        .openapi({ param: { name: "limit", in: "query" }, description: `at most ${MAX_PAGE}` }),
    }),
  },
  responses: {
    200: json(
      z
        .object({
          issuer: z.string(),
          size: z.number().int(),
          entries: z.array(LogEntrySchema),
          next: z.number().int().nullable(),
        })
        .openapi("EntriesPage"),
      "A page of entries; `next` is the `from` of the next page",
    ),
    400: E[400],
    401: E[401],
    403: E[403],
  },
});

const checkpoint = createRoute({
  operationId: "getCheckpoint",
  description: "A checkpoint of the calling issuer's chain (size and head hash) signed now by the log key.",
  method: "get",
  path: "/v1/log/checkpoint",
  tags: ["log"],
  summary: "A signed checkpoint of the chain's current head",
  security: bearerSecurity,
  middleware: issuerOnly,
  responses: {
    200: { ...json(CheckpointSchema, "Checkpoint (signed by the log key)"), headers: coverageHeader },
    401: E[401],
    403: E[403],
    503: E[503],
  },
});

const publicCheckpoint = createRoute({
  operationId: "getPublicCheckpoint",
  description:
    "The latest signed checkpoint of an issuer's chain, public so that anyone can detect a forked or rewritten log.",
  method: "get",
  path: "/v1/public/issuers/{id}/checkpoint",
  tags: ["public"],
  summary: "The issuer's latest signed checkpoint (public)",
  request: {
    params: z.object({
      id: z
        .string()
        .regex(/^iss_[0-9a-f]{32}$/, "must be an issuer id (iss_…)")
        .openapi({ param: { name: "id", in: "path" } }),
    }),
  },
  responses: { 200: json(CheckpointSchema, "Latest checkpoint"), ...PE, 503: E[503] },
});

const exportRoute = createRoute({
  operationId: "exportLog",
  description:
    "Streams the chain as kakunin-log/1 NDJSON: a header, the certificates, the CRL, the entries (with stored payloads if `payloads=true`) and a covering checkpoint. Verify it offline with `kakunin-verify log`.",
  method: "get",
  path: "/v1/log/export",
  tags: ["log"],
  summary: "Export the chain as NDJSON (kakunin-log/1), streamed",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: {
    query: z.object({
      from: Seq.optional().openapi({ param: { name: "from", in: "query" } }),
      to: Seq.optional().openapi({
        param: { name: "to", in: "query" },
        description: "inclusive; default the last entry",
      }),
      payloads: z
        .enum(["true", "false"])
        .optional()
        .openapi({
          param: { name: "payloads", in: "query" },
          description: "include stored payloads as `payload` lines",
        }),
    }),
  },
  responses: {
    200: {
      description: "NDJSON: header, certificates, crl, entries (+ payloads), checkpoint",
      headers: coverageHeader,
      content: { "application/x-ndjson": { schema: z.string() } },
    },
    400: E[400],
    401: E[401],
    403: E[403],
    503: E[503],
  },
});

const erase = createRoute({
  operationId: "erasePayload",
  description:
    "Deletes the stored payload of one entry (e.g. a GDPR erasure). The entry, its payloadHash and the chain are untouched, so the log still verifies. Idempotent.",
  method: "delete",
  path: "/v1/log/entries/{seq}/payload",
  tags: ["log"],
  summary: "Erase an entry's stored payload (the chain is untouched)",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: {
    params: z.object({ seq: Seq.openapi({ param: { name: "seq", in: "path", required: true }, example: "42" }) }),
  },
  responses: { 204: { description: "Erased (or already erased)" }, 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
});

function logOf(deps: AppDeps) {
  if (!deps.log) throw new NotFoundError("The audit log is not enabled");
  return deps.log;
}

export function logRoutes() {
  const app = router();

  app.openapi(entries, async (c) => {
    const log = logOf(c.get("deps"));
    const q = c.req.valid("query");
    const opts: { from?: number; to?: number; limit?: number } = {};
    if (q.from !== undefined) opts.from = q.from;
    if (q.to !== undefined) opts.to = q.to;
    if (q.limit !== undefined) opts.limit = q.limit;
    return c.json(await log.entries(issuerOf(c.get("principal")), opts), 200);
  });

  app.openapi(checkpoint, async (c) => {
    const log = logOf(c.get("deps"));
    const { checkpoint: cp, size } = await log.readCheckpoint(issuerOf(c.get("principal")));
    if (cp.size < size) c.header(COVERAGE_HEADER, `partial; checkpoint-size=${cp.size}; log-size=${size}`); // KMS down: the latest signed one
    return c.json(cp, 200);
  });

  app.openapi(publicCheckpoint, async (c) => {
    const log = logOf(c.get("deps"));
    const { id } = c.req.valid("param");
    return c.json(await log.publicCheckpoint(id), 200); // 404 ERR_ISSUER_NOT_FOUND for an unknown issuer
  });

  app.openapi(exportRoute, async (c) => {
    const log = logOf(c.get("deps"));
    const q = c.req.valid("query");
    const opts: { from?: number; to?: number; payloads?: boolean } = { payloads: q.payloads === "true" };
    if (q.from !== undefined) opts.from = q.from;
    if (q.to !== undefined) opts.to = q.to;
    const issuerId = issuerOf(c.get("principal"));
    const plan = await log.planExport(issuerId, opts); // validation and the covering checkpoint happen before any byte is sent
    const lines = log.exportLines(plan);
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async pull(ctrl) {
        try {
          const { value, done } = await lines.next();
          if (done) ctrl.close();
          else ctrl.enqueue(enc.encode(value));
        } catch (e) {
          ctrl.error(e);
        }
      },
      async cancel() {
        await lines.return(undefined);
      },
    });
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "application/x-ndjson",
        "content-disposition": `attachment; filename="${issuerId}-${plan.from}-${plan.to}.ndjson"`,
        "cache-control": "no-store",
        // KMS down: the export ends at the latest signed checkpoint, before the requested `to`.
        ...(plan.coverage
          ? {
              [COVERAGE_HEADER]: `partial; to=${plan.to}; requested-to=${plan.coverage.requestedTo}; log-size=${plan.coverage.logSize}`,
            }
          : {}),
      },
    }) as never;
  });

  app.openapi(erase, async (c) => {
    const log = logOf(c.get("deps"));
    await log.erasePayload(issuerOf(c.get("principal")), c.req.valid("param").seq);
    return c.body(null, 204);
  });

  return app;
}
