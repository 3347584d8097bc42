/**
 * `POST /v1/admin/log-key/rotate` (operator): rotates the log v2 checkpoint key
 * (server/authority/rotate-log-key.ts). Validate → call the authority → render the old and new
 * verifier keys (key name KAKUNIN_LOG_NAME, what a witness's `--log-prefix <log name>/` pins).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.js";
import { rotateLogKey } from "../authority/rotate-log-key.js";
import { bearerSecurity, errorResponses as E, router } from "../http/openapi.js";
import type { CheckpointKey } from "../log/tree/log-key.js";
import { formatVerifierKey } from "../../verifier/src/formats/index.js";

const KeySchema = z.object({
  arn: z.string(),
  vkey: z.string().openapi({
    description:
      "Signed-note verifier key named after KAKUNIN_LOG_NAME (give it to witnesses as `--log-prefix <log name>/ <vkey>`); each issuer log's own line, named after its origin, is in GET /v1/public/log-keys",
  }),
});

const RotationSchema = z
  .object({
    status: z.enum(["prepared", "rotated"]).openapi({
      description:
        "`prepared`: the new key exists, nothing is signed with it yet (call again without prepare to switch); `rotated`: the new key signs, the old key is disabled in KMS",
    }),
    rotationId: z.string(),
    resumed: z.boolean().openapi({ description: "This call finished a rotation left unfinished (or prepared) before" }),
    previous: KeySchema,
    next: KeySchema,
  })
  .openapi("LogKeyRotation");

const rotate = createRoute({
  operationId: "rotateLogKey",
  method: "post",
  path: "/v1/admin/log-key/rotate",
  tags: ["log"],
  summary: "Rotate the log's checkpoint key (operator)",
  description:
    "Operator only. Creates a new Ed25519 checkpoint key in KMS, points `alias/kakunin/tlog` at it, signs every later checkpoint with it (every instance picks it up at its next publication) and disables the old key in KMS (never deleted). GET /v1/public/log-keys keeps listing the old key after the new one, so checkpoints and receipts signed before keep verifying. `?prepare=true` only creates the new key and returns its verifier key, so witnesses can trust it before it signs; the next call without it switches. A rotation interrupted by a crash is finished by the next call. 409 ERR_OPERATION_IN_PROGRESS while another rotation runs.",
  security: bearerSecurity,
  middleware: [requireRole("operator")],
  request: {
    query: z.object({
      prepare: z.enum(["true", "false"]).optional().openapi({ description: "Only create the next key" }),
    }),
  },
  responses: {
    200: { description: "The rotation", content: { "application/json": { schema: RotationSchema } } },
    400: E[400],
    401: E[401],
    403: E[403],
    409: E[409],
    503: E[503],
  },
});

async function render(logName: string, k: CheckpointKey) {
  return { arn: k.arn, vkey: await formatVerifierKey(logName, k.publicKey) };
}

export function logKeyRoutes() {
  const app = router();
  app.openapi(rotate, async (c) => {
    const deps = c.get("deps");
    const r = await rotateLogKey(deps, { prepare: c.req.valid("query").prepare === "true" });
    const name = deps.config.logName;
    return c.json(
      {
        status: r.status,
        rotationId: r.rotationId,
        resumed: r.resumed,
        previous: await render(name, r.previous),
        next: await render(name, r.next),
      },
      200,
    );
  });
  return app;
}
