/**
 * POST /v1/agents/{id}/operations — sign an operation with the agent's own KMS key and append it
 * to its issuer's chain. 201 with a `kakunin-receipt/1` once durably committed.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireRole } from "../auth/middleware.js";
import { authorizeOperation, signOperation } from "../authority/sign-operation.js";
import { ValidationError } from "../errors.js";
import { bearerSecurity, errorResponses as E, router } from "../http/openapi.js";
import { AgentId } from "../http/schemas.js";
import type { OperationPayload } from "../log/audit-log.js";
import { ReceiptSchema } from "../log/wire-schemas.js";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const OperationBody = z
  .object({
    payload: z.unknown().optional().openapi({
      description:
        "Any I-JSON value (RFC 7493: no duplicate member names, numbers that round-trip through a double, else 422); its RFC 8785 (JCS) bytes are hashed into the entry's payloadHash",
    }),
    payloadBase64: z
      .string()
      .regex(BASE64, "must be standard base64 (with padding)")
      .optional()
      .openapi({ description: "Raw bytes (standard base64); payloadHash = SHA-256 of the bytes" }),
    contentType: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[\x21-\x7e][\x20-\x7e]*$/, "must be printable ASCII")
      .optional()
      .openapi({
        description: "Media type of the payload; recorded in the signed entry's details",
        example: "application/json",
      }),
  })
  .strict()
  .openapi("Operation");

const IdParam = z.object({ id: AgentId.openapi({ param: { name: "id", in: "path" } }) });

const sign = createRoute({
  operationId: "signOperation",
  method: "post",
  path: "/v1/agents/{id}/operations",
  tags: ["log"],
  summary: "Sign an operation with the agent's key and append it to the issuer's audit log",
  description:
    "The agent's own token or its issuer's. Exactly one of `payload` (JSON) or `payloadBase64` (bytes). Acknowledged only after the entry is durably committed. Beyond the issuer's per-agent signing-rate limit (`PUT /v1/issuers/{id}/responses`): 429 ERR_RATE_LIMITED with Retry-After, nothing signed or written.",
  security: bearerSecurity,
  middleware: [requireRole("agent", "issuer")],
  request: { params: IdParam, body: { required: true, content: { "application/json": { schema: OperationBody } } } },
  responses: {
    201: { description: "Signed and committed", content: { "application/json": { schema: ReceiptSchema } } },
    400: E[400],
    401: E[401],
    403: E[403],
    404: E[404],
    409: E[409],
    413: E[413],
    422: E[422],
    429: E[429],
    503: E[503],
    507: E[507],
  },
});

export function operationRoutes() {
  const app = router();
  app.openapi(sign, async (c) => {
    const { id } = c.req.valid("param");
    const authorized = await authorizeOperation(c.get("deps"), c.get("principal"), id);
    const body = c.req.valid("json");
    const hasJson = body.payload !== undefined;
    const hasBytes = body.payloadBase64 !== undefined;
    if (hasJson === hasBytes)
      throw new ValidationError("Give exactly one of payload or payloadBase64", {
        field: hasJson ? "payloadBase64" : "payload",
      });
    const payload: OperationPayload = hasBytes
      ? { bytes: Buffer.from(body.payloadBase64!, "base64") }
      : { json: body.payload };
    const { receipt } = await signOperation(
      authorized,
      payload,
      body.contentType !== undefined ? { contentType: body.contentType } : {},
    );
    c.set("signedWithKey", receipt.entry.signer.key);
    c.header("location", `/v1/log/entries?from=${receipt.entry.seq}&to=${receipt.entry.seq}`);
    // The kakunin-receipt/2 (with the tlog proof) is served there once a checkpoint covers the entry.
    c.header("link", `</v1/log/entries/${receipt.entry.seq}/receipt>; rel="kakunin-receipt-v2"`);
    return c.json(receipt as z.infer<typeof ReceiptSchema>, 201);
  });
  return app;
}
