import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.js";
import { createIssuer } from "../authority/issuers.js";
import { NameSchema } from "../http/names.js";
import { bearerSecurity, errorResponses, router } from "../http/openapi.js";

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

export function issuerRoutes() {
  const app = router();
  app.openapi(create, async (c) => {
    const created = await createIssuer(c.get("deps"), c.req.valid("json").name);
    return c.json(created, 201);
  });
  return app;
}
