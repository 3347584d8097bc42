import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Hook } from "@hono/zod-openapi";
import type { AppEnv } from "./env.js";
import { problemType, ValidationError } from "../errors.js";
import { OPERATION_EXAMPLES } from "./openapi-examples.js";

/**
 * zod failures (body, params, query) become ERR_VALIDATION problems (400), never 500. A custom
 * issue may carry `params: { status: 422, code }` (e.g. the name rule, http/names.ts).
 */
export const defaultHook: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path?.length ? issue.path.map(String).join(".") : undefined;
    const msg = issue ? `${field ? `${field}: ` : ""}${issue.message}` : "Invalid request";
    const params =
      issue?.code === "custom" ? (issue.params as { status?: number; code?: string } | undefined) : undefined;
    const typed =
      params?.status === 422 && params.code ? { status: 422 as const, code: params.code } : { status: 400 as const };
    throw new ValidationError(msg, field === undefined ? typed : { ...typed, field });
  }
};

export function router(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook });
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: "ERR_VALIDATION" }),
    instance: z.string().optional(),
    field: z.string().optional(),
  })
  .openapi("Problem");

const problem = (description: string, status: number, title: string, code: string, detail: string, field?: string) => ({
  description,
  content: {
    "application/problem+json": {
      schema: ProblemSchema,
      example: {
        type: problemType(code),
        title,
        status,
        detail,
        code,
        instance: "/v1/agents",
        ...(field ? { field } : {}),
      },
    },
  },
});

/** Standard error responses to spread into a route's `responses`. */
export const errorResponses = {
  400: problem(
    "Malformed request or invalid input",
    400,
    "Bad Request",
    "ERR_VALIDATION",
    "name: Too small: expected string to have >=1 characters",
    "name",
  ),
  401: problem("Missing or unknown bearer token", 401, "Unauthorized", "ERR_UNAUTHORIZED", "Unknown or revoked token"),
  403: problem(
    "The token's role may not use this route, or a critical alert suspended the token (ERR_TOKEN_SUSPENDED)",
    403,
    "Forbidden",
    "ERR_FORBIDDEN",
    "This route requires the issuer role",
  ),
  404: problem(
    "Not found (including another issuer's agents)",
    404,
    "Not Found",
    "ERR_AGENT_NOT_FOUND",
    "Agent agt_00000000000000000000000000000000 not found",
  ),
  409: problem(
    "Conflict with the resource's current state",
    409,
    "Conflict",
    "ERR_AGENT_REVOKED",
    "The agent is revoked and cannot be rotated",
  ),
  413: problem(
    "Request body too large",
    413,
    "Content Too Large",
    "ERR_PAYLOAD_TOO_LARGE",
    "Request body exceeds 1048576 bytes",
  ),
  422: problem(
    "Valid JSON that breaks a rule: I-JSON (duplicate member, inexact number, lone surrogate) or the name rule",
    422,
    "Unprocessable Content",
    "ERR_JSON_DUPLICATE_MEMBER",
    'Duplicate member name "d" (RFC 7493 §2.3)',
    "payload.d",
  ),
  429: problem(
    "The agent's signing-rate limit is used up; nothing was signed (see Retry-After)",
    429,
    "Too Many Requests",
    "ERR_RATE_LIMITED",
    "Agent agt_250b0ad5ee659166c44c72f8c53f0ae2 is over its issuer's signing-rate limit; retry in 2 s",
  ),
  503: problem(
    "KMS unavailable or throttling, server clock out of step (ERR_CLOCK_SKEW), or too many bodies in flight (ERR_OVERLOADED); see Retry-After",
    503,
    "Service Unavailable",
    "ERR_KMS_UNAVAILABLE",
    "KMS is unavailable or throttling; retry later",
  ),
  507: problem(
    "The database is out of space; nothing was written (see Retry-After)",
    507,
    "Insufficient Storage",
    "ERR_STORAGE_FULL",
    "The database is full; nothing was written",
  ),
} as const;

export const publicErrorResponses = { 400: errorResponses[400], 404: errorResponses[404] } as const;

export const bearerSecurity = [{ bearer: [] as string[] }];

/** Document-level fields of /openapi.json: info, servers and the tags every operation uses. */
export function openApiConfig(publicUrl: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Kakunin API",
      version: "1.0.0",
      description:
        "Identity authority for AI agents: per-agent KMS keys, X.509 certificates and a signed, hash-chained audit log. Errors are RFC 9457 application/problem+json with a stable `code`.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      contact: { name: "Kakunin", url: "https://kakunin.dev" },
    },
    servers: [{ url: publicUrl, description: "This Kakunin instance" }],
    tags: [
      { name: "issuers", description: "Organisations that run agents (operator token)" },
      {
        name: "agents",
        description: "An issuer's agents: registration, rotation, revocation, agent tokens (issuer token)",
      },
      {
        name: "log",
        description: "The issuer's signed, hash-chained audit log: signing operations, entries, checkpoints, export",
      },
      {
        name: "public",
        description: "Unauthenticated reads for relying parties and regulators: CA, CRL, certificates, checkpoints",
      },
      {
        name: "monitoring",
        description:
          "Key-usage monitoring: alerts (issuer: its own; operator: all) and reconciliation of KMS Sign calls with CloudTrail (operator)",
      },
    ],
  };
}

type Doc = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;
type MediaMap = Record<string, { example?: unknown }>;
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

/** Attaches OPERATION_EXAMPLES (by operationId) to the request bodies and responses of `doc`. */
export function withExamples(doc: Doc): Doc {
  for (const item of Object.values(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (
        item as Record<
          string,
          { operationId?: string; requestBody?: unknown; responses?: Record<string, unknown> } | undefined
        >
      )[method];
      const ex = op?.operationId ? OPERATION_EXAMPLES[op.operationId] : undefined;
      if (!op || !ex) continue;
      const body = (op.requestBody as { content?: MediaMap } | undefined)?.content?.["application/json"];
      if (body && ex.request !== undefined) body.example = ex.request;
      for (const [status, example] of Object.entries(ex.responses ?? {})) {
        const content = (op.responses?.[status] as { content?: MediaMap } | undefined)?.content;
        const media = content ? Object.values(content)[0] : undefined;
        if (media) media.example = example;
      }
    }
  }
  return doc;
}
