import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.js";
import { getIssuerResponses, RATE_LIMIT_RANGE, setIssuerResponses } from "../authority/issuer-responses.js";
import { createIssuer } from "../authority/issuers.js";
import { NameSchema } from "../http/names.js";
import { bearerSecurity, errorResponses, router } from "../http/openapi.js";

const IssuerId = z
  .string()
  .regex(/^iss_[0-9a-f]{32}$/, "must be an issuer id (iss_…)")
  .openapi({ param: { name: "id", in: "path" }, example: "iss_e58b3f18df024250e02cce7200de60cb" });

/** A whole number within `range`; anything else (0, 1.5, 10⁹) is 422 `ERR_INVALID_RATE_LIMIT` naming the member. */
const LimitNumber = (range: { min: number; max: number }, description: string) =>
  z
    .number()
    .superRefine((n, ctx) => {
      if (!Number.isInteger(n) || n < range.min || n > range.max)
        ctx.addIssue({
          code: "custom",
          message: `must be a whole number from ${range.min} to ${range.max}`,
          params: { status: 422, code: "ERR_INVALID_RATE_LIMIT" },
        });
    })
    .openapi({ type: "integer", minimum: range.min, maximum: range.max, description });

export const ResponseSettingsSchema = z
  .object({
    suspendTokensOnCritical: z.boolean().openapi({
      description:
        "A critical alert about one of the issuer's agents (e.g. unlogged-signature) suspends every live token of that agent: 403 ERR_TOKEN_SUSPENDED until `POST /v1/agents/{id}/tokens/resume`",
    }),
    signingRateLimit: z
      .object({
        perMinute: LimitNumber(RATE_LIMIT_RANGE.perMinute, "Signatures per minute each agent may sustain"),
        burst: LimitNumber(RATE_LIMIT_RANGE.burst, "Signatures an idle agent may make at once"),
      })
      .strict()
      .nullable()
      .openapi({
        description:
          "Each agent's token bucket on `POST /v1/agents/{id}/operations`; beyond it 429 ERR_RATE_LIMITED with Retry-After, nothing signed. Kept per server process. null: no limit",
      }),
  })
  .strict()
  .openapi("ResponseSettings");

export const CreateIssuerBody = z
  .object({
    name: NameSchema().openapi({ example: "Acme Robotics GmbH", description: "Becomes O= in agent certificates" }),
  })
  .strict()
  .openapi("CreateIssuer");

export const IssuerCreated = z
  .object({
    id: z.string().openapi({ example: "iss_0f3c…" }),
    name: z.string(),
    token: z.string().openapi({ description: "Issuer bearer token (kkn_iss_…). Shown once; only its hash is stored." }),
  })
  .openapi("IssuerCreated");

const create = createRoute({
  method: "post",
  operationId: "createIssuer",
  description:
    "Operator only. Creates an issuer (the organisation that runs agents; its name becomes O= in their certificates) and returns its bearer token once — only the token's hash is stored.",
  path: "/",
  tags: ["issuers"],
  summary: "Create an issuer (operator)",
  security: bearerSecurity,
  middleware: [requireRole("operator")],
  request: { body: { required: true, content: { "application/json": { schema: CreateIssuerBody } } } },
  responses: {
    201: { description: "Issuer created", content: { "application/json": { schema: IssuerCreated } } },
    400: errorResponses[400],
    401: errorResponses[401],
    403: errorResponses[403],
    413: errorResponses[413],
    422: errorResponses[422],
    507: errorResponses[507],
  },
});

const responseErrors = {
  400: errorResponses[400],
  401: errorResponses[401],
  403: errorResponses[403],
  404: errorResponses[404],
};

const getResponses = createRoute({
  method: "get",
  operationId: "getIssuerResponses",
  description:
    "The issuer's responses to key-usage alerts: token suspension on a critical alert and the per-agent signing-rate limit (defaults: off, null). The issuer's own token, or the operator's; another issuer's id answers 404 like an unknown one.",
  path: "/{id}/responses",
  tags: ["issuers"],
  summary: "The issuer's alert responses and signing-rate limit",
  security: bearerSecurity,
  middleware: [requireRole("issuer", "operator")],
  request: { params: z.object({ id: IssuerId }) },
  responses: {
    200: { description: "Current settings", content: { "application/json": { schema: ResponseSettingsSchema } } },
    ...responseErrors,
  },
});

const putResponses = createRoute({
  method: "put",
  operationId: "setIssuerResponses",
  description:
    "Replaces the issuer's responses to key-usage alerts. `suspendTokensOnCritical`: a critical alert about an agent suspends its tokens. `signingRateLimit`: each agent's signing-rate limit (`perMinute` 1–60000, `burst` 1–10000; out of range: 422 ERR_INVALID_RATE_LIMIT with `field`), or null for none. A new limit applies at once on this instance, within 5 s on others.",
  path: "/{id}/responses",
  tags: ["issuers"],
  summary: "Set the issuer's alert responses and signing-rate limit",
  security: bearerSecurity,
  middleware: [requireRole("issuer", "operator")],
  request: {
    params: z.object({ id: IssuerId }),
    body: { required: true, content: { "application/json": { schema: ResponseSettingsSchema } } },
  },
  responses: {
    200: { description: "Settings stored", content: { "application/json": { schema: ResponseSettingsSchema } } },
    ...responseErrors,
    413: errorResponses[413],
    422: errorResponses[422],
    507: errorResponses[507],
  },
});

export function issuerRoutes() {
  const app = router();
  app.openapi(create, async (c) => {
    const created = await createIssuer(c.get("deps"), c.req.valid("json").name);
    return c.json(created, 201);
  });
  app.openapi(getResponses, async (c) => {
    const settings = await getIssuerResponses(c.get("deps"), c.get("principal"), c.req.valid("param").id);
    return c.json(settings, 200);
  });
  app.openapi(putResponses, async (c) => {
    const { id } = c.req.valid("param");
    const settings = await setIssuerResponses(c.get("deps"), c.get("principal"), id, c.req.valid("json"));
    return c.json(settings, 200);
  });
  return app;
}
