import { createRoute, z } from "@hono/zod-openapi";
import { issuerOf, requireRole } from "../auth/middleware.js";
import { mintAgentToken } from "../authority/agent-tokens.js";
import { resumeAgentTokens } from "../authority/token-suspension.js";
import { issuerAgentViews, ownedAgentView } from "../authority/agent-views.js";
import { registerAgent } from "../authority/register-agent.js";
import { revokeAgent } from "../authority/revoke-agent.js";
import { rotateAgent } from "../authority/rotate-agent.js";
import { bearerSecurity, errorResponses as E, router } from "../http/openapi.js";
import { AgentId, AgentView, RevocationReason } from "../http/schemas.js";
import { NameSchema } from "../http/names.js";

const Name = NameSchema();
const CreateAgentBody = z
  .object({ name: Name.openapi({ example: "invoice-bot" }) })
  .strict()
  .openapi("CreateAgent");
const AgentCreated = z
  .object({
    id: z.string(),
    name: z.string(),
    keyArn: z.string(),
    certificate: z.object({ serial: z.string(), pem: z.string(), notBefore: z.string(), notAfter: z.string() }),
  })
  .openapi("AgentCreated");
const IdParam = z.object({ id: AgentId.openapi({ param: { name: "id", in: "path" } }) });
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { "application/json": { schema } } },
});
const issuerOnly = [requireRole("issuer")];

const create = createRoute({
  operationId: "createAgent",
  description:
    "Creates a dedicated KMS signing key (RSA_2048, tagged with the agent and issuer) and an X.509 certificate for it, signed by the CA. Nothing is written if any step fails.",
  method: "post",
  path: "/",
  tags: ["agents"],
  summary: "Register an agent: new KMS key + certificate",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: body(CreateAgentBody),
  responses: {
    201: json(AgentCreated, "Agent registered"),
    400: E[400],
    401: E[401],
    403: E[403],
    413: E[413],
    422: E[422],
    503: E[503],
    507: E[507],
  },
});

const list = createRoute({
  operationId: "listAgents",
  description:
    "All agents of the calling issuer, each with its certificate and key history; `expiring=30d` keeps only agents whose active certificate expires within 30 days.",
  method: "get",
  path: "/",
  tags: ["agents"],
  summary: "List the issuer's agents with certificate history",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: {
    query: z.object({
      expiring: z
        .string()
        .regex(/^\d{1,4}d$/, "must be a number of days like 30d")
        .optional()
        .openapi({
          param: { name: "expiring", in: "query" },
          example: "30d",
          description: "Only agents whose active certificate expires within this many days",
        }),
    }),
  },
  responses: { 200: json(z.object({ agents: z.array(AgentView) }), "Agents"), 400: E[400], 401: E[401], 403: E[403] },
});

const get = createRoute({
  operationId: "getAgent",
  description:
    "One agent of the calling issuer with every certificate it has had and the state of each key. Another issuer's agent answers 404, like an unknown id.",
  method: "get",
  path: "/{id}",
  tags: ["agents"],
  summary: "One agent with full certificate and key history",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: { params: IdParam },
  responses: { 200: json(AgentView, "Agent"), 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
});

const RotationResult = z
  .object({
    agent: AgentView,
    rotation: z.object({
      id: z.string(),
      oldSerial: z.string(),
      newSerial: z.string(),
      newKeyArn: z.string(),
      resumed: z.boolean(),
    }),
  })
  .openapi("RotationResult");

const rotate = createRoute({
  operationId: "rotateAgent",
  description:
    "Creates a new KMS key and certificate, marks the old certificate superseded and disables (never deletes) the old key, then appends `key.rotated` to the log. An interrupted rotation is finished instead (`resumed: true`).",
  method: "post",
  path: "/{id}/rotate",
  tags: ["agents"],
  summary: "Rotate: new key and certificate, old superseded and disabled (resumable)",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: { params: IdParam },
  responses: {
    200: json(RotationResult, "Rotated (or an interrupted rotation finished)"),
    400: E[400],
    401: E[401],
    403: E[403],
    404: E[404],
    409: E[409],
    503: E[503],
  },
});

const RevokeBody = z.object({ reason: RevocationReason }).strict().openapi("Revoke");
const RevocationResult = z
  .object({
    agent: AgentView,
    revocation: z.object({
      serial: z.string(),
      reason: RevocationReason,
      revokedAt: z.string(),
      crlNumber: z.number().int(),
      resumed: z.boolean(),
    }),
  })
  .openapi("RevocationResult");

const revoke = createRoute({
  operationId: "revokeAgent",
  description:
    "Revokes the active certificate with an RFC 5280 reason, disables the key, revokes the agent's tokens and publishes a new CRL. An interrupted revocation is finished instead (`resumed: true`).",
  method: "post",
  path: "/{id}/revoke",
  tags: ["agents"],
  summary: "Revoke: certificate revoked, key disabled, new CRL",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: { params: IdParam, ...body(RevokeBody) },
  responses: {
    200: json(RevocationResult, "Revoked"),
    400: E[400],
    401: E[401],
    403: E[403],
    404: E[404],
    409: E[409],
    413: E[413],
    503: E[503],
  },
});

const tokens = createRoute({
  operationId: "createAgentToken",
  description:
    "Mints a bearer token bound to one agent: it may only sign operations for that agent. Returned once; only its hash is stored. A revoked agent answers 409.",
  method: "post",
  path: "/{id}/tokens",
  tags: ["agents"],
  summary: "Mint an agent-scoped token (shown once)",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: { params: IdParam },
  responses: {
    201: json(
      z
        .object({
          token: z.string().openapi({ description: "kkn_agt_… — may only sign for this agent" }),
          agent: z.string(),
        })
        .openapi("AgentToken"),
      "Token minted",
    ),
    400: E[400],
    401: E[401],
    403: E[403],
    404: E[404],
    409: E[409],
  },
});

const resume = createRoute({
  operationId: "resumeAgentTokens",
  description:
    "Lifts the suspension a critical key-usage alert put on the agent's tokens (the issuer's `suspendTokensOnCritical`): every suspended, unrevoked token of the agent is accepted again. Answers which tokens (by id) and which alerts had suspended them; none suspended is a 200 with `resumed: 0`.",
  method: "post",
  path: "/{id}/tokens/resume",
  tags: ["agents"],
  summary: "Resume the agent's suspended tokens",
  security: bearerSecurity,
  middleware: issuerOnly,
  request: { params: IdParam },
  responses: {
    200: json(
      z
        .object({
          agent: z.string(),
          resumed: z.number().int(),
          tokenIds: z.array(z.string()).openapi({ description: "Ids of the tokens resumed (never their values)" }),
          alerts: z.array(z.string()).openapi({ description: "The alerts that had suspended them" }),
        })
        .openapi("TokensResumed"),
      "Tokens resumed",
    ),
    400: E[400],
    401: E[401],
    403: E[403],
    404: E[404],
  },
});

export function agentRoutes() {
  const app = router();

  app.openapi(create, async (c) => {
    const issuerId = issuerOf(c.get("principal"));
    const created = await registerAgent(c.get("deps"), issuerId, c.req.valid("json").name);
    return c.json(created, 201);
  });

  app.openapi(list, async (c) => {
    const issuerId = issuerOf(c.get("principal"));
    const { expiring } = c.req.valid("query");
    const agents = await issuerAgentViews(
      c.get("deps"),
      issuerId,
      expiring ? { expiringWithinDays: Number(expiring.slice(0, -1)) } : {},
    );
    return c.json({ agents }, 200);
  });

  app.openapi(get, async (c) => {
    const view = await ownedAgentView(c.get("deps"), issuerOf(c.get("principal")), c.req.valid("param").id);
    return c.json(view, 200);
  });

  app.openapi(rotate, async (c) => {
    const issuerId = issuerOf(c.get("principal"));
    const { id } = c.req.valid("param");
    const r = await rotateAgent(c.get("deps"), issuerId, id);
    const agent = await ownedAgentView(c.get("deps"), issuerId, id);
    return c.json(
      {
        agent,
        rotation: {
          id: r.rotationId,
          oldSerial: r.oldSerial,
          newSerial: r.newSerial,
          newKeyArn: r.newKeyArn,
          resumed: r.resumed,
        },
      },
      200,
    );
  });

  app.openapi(revoke, async (c) => {
    const issuerId = issuerOf(c.get("principal"));
    const { id } = c.req.valid("param");
    const r = await revokeAgent(c.get("deps"), issuerId, id, c.req.valid("json").reason);
    const agent = await ownedAgentView(c.get("deps"), issuerId, id);
    return c.json({ agent, revocation: r }, 200);
  });

  app.openapi(tokens, async (c) => {
    const issuerId = issuerOf(c.get("principal"));
    const { id } = c.req.valid("param");
    const token = await mintAgentToken(c.get("deps"), issuerId, id);
    return c.json({ token, agent: id }, 201);
  });

  app.openapi(resume, async (c) => {
    const r = await resumeAgentTokens(c.get("deps"), issuerOf(c.get("principal")), c.req.valid("param").id);
    return c.json(r, 200);
  });

  return app;
}
