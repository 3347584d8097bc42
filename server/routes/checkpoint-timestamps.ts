/**
 * RFC 3161 timestamps of log v2 checkpoints (issue 17): `GET /v1/logs/{issuer}/checkpoint.tsr`, the
 * DER TimeStampResp of the latest timestamped checkpoint, and `…/timestamped-checkpoint`, the
 * checkpoint text it is over (`openssl ts -verify -data timestamped-checkpoint -in checkpoint.tsr
 * -CAfile <pinned TSA CA>`). Both say which checkpoint in `kakunin-checkpoint-size`. Validate → call
 * the log (server/log/checkpoint-trust.ts) → render; never waits on a TSA.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../deps.js";
import { NotFoundError } from "../errors.js";
import { publicErrorResponses as E, router } from "../http/openapi.js";
import type { CheckpointTsr } from "../log/checkpoint-trust.js";

const IssuerParam = z
  .string()
  .regex(/^iss_[0-9a-f]{32}$/, "must be an issuer id (iss_…)")
  .openapi({ param: { name: "issuer", in: "path" }, example: "iss_e58b3f18df024250e02cce7200de60cb" });
const SHORT = "public, max-age=2";
const SIZE_HEADER = {
  "kakunin-checkpoint-size": {
    description: "Size of the timestamped checkpoint",
    schema: { type: "integer" as const },
  },
};

const tsr = createRoute({
  operationId: "getCheckpointTimestamp",
  summary: "RFC 3161 timestamp of the latest timestamped checkpoint (DER TimeStampResp)",
  description:
    "One granted DER TimeStampResp (RFC 3161 §2.4.2) whose token's message imprint is SHA-256 of a checkpoint text of this issuer's log — the latest checkpoint a TSA of KAKUNIN_TSA_URLS has timestamped, by the first of those TSAs that did. `kakunin-checkpoint-size` names that checkpoint; its text is `…/timestamped-checkpoint`. 404 until a checkpoint has been timestamped (or without TSAs).",
  method: "get",
  path: "/v1/logs/{issuer}/checkpoint.tsr",
  tags: ["public"],
  request: { params: z.object({ issuer: IssuerParam }) },
  responses: {
    200: {
      description: "TimeStampResp",
      headers: SIZE_HEADER,
      content: { "application/timestamp-reply": { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...E,
  },
});

const text = createRoute({
  operationId: "getTimestampedCheckpoint",
  summary: "The checkpoint text that checkpoint.tsr timestamps",
  description:
    "The C2SP tlog-checkpoint text (origin, size, base64 root; no signature lines) of the latest timestamped checkpoint: exactly the bytes whose SHA-256 is the imprint of `…/checkpoint.tsr`. Its signed note (with cosignatures) is the checkpoint of that size. 404 until a checkpoint has been timestamped.",
  method: "get",
  path: "/v1/logs/{issuer}/timestamped-checkpoint",
  tags: ["public"],
  request: { params: z.object({ issuer: IssuerParam }) },
  responses: {
    200: {
      description: "Checkpoint text",
      headers: SIZE_HEADER,
      content: { "text/plain; charset=utf-8": { schema: z.string() } },
    },
    ...E,
  },
});

async function latest(deps: AppDeps, issuer: string): Promise<CheckpointTsr> {
  const found = deps.logV2 && (await deps.checkpointTrust?.latestTsr(deps.logV2.origin(issuer)));
  if (!found) throw new NotFoundError(`No timestamped checkpoint of ${issuer}'s log yet`, "ERR_NO_TIMESTAMP");
  return found;
}

export function checkpointTimestampRoutes() {
  const app = router();

  app.openapi(tsr, async (c) => {
    const t = await latest(c.get("deps"), c.req.valid("param").issuer);
    return c.body(new Uint8Array(t.tsr), 200, {
      "content-type": "application/timestamp-reply",
      "cache-control": SHORT,
      "kakunin-checkpoint-size": String(t.size),
    });
  });

  app.openapi(text, async (c) => {
    const t = await latest(c.get("deps"), c.req.valid("param").issuer);
    return c.text(t.text, 200, {
      "cache-control": SHORT,
      "kakunin-checkpoint-size": String(t.size),
    });
  });

  return app;
}
