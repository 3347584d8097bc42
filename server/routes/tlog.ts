/**
 * Log v2 publication (issue 15), read-only and public, per issuer under
 * /v1/public/issuers/{id}/tlog/: the checkpoint verifier key, the C2SP signed-note checkpoint and
 * the C2SP tlog-tiles hash tiles and entry bundles. Reads never wait on KMS: the checkpoint served
 * is the latest one stored by the publisher (server/log/tree/checkpoint-publisher.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { AppDeps } from "../deps.js";
import { NotFoundError } from "../errors.js";
import { publicErrorResponses as PE, router } from "../http/openapi.js";
import { checkpointVerifierKey } from "../log/tree/log-key.js";

const IssuerParam = z.string().regex(/^iss_[0-9a-f]{32}$/, "must be an issuer id (iss_…)").openapi({ param: { name: "id", in: "path" } });
const text = (description: string) => ({ description, content: { "text/plain; charset=utf-8": { schema: z.string() } } });

const vkey = createRoute({
  operationId: "getLogVerifierKey",
  summary: "The issuer log's checkpoint verifier key (signed-note vkey)",
  description: "The C2SP signed-note verifier key of the issuer's log v2 checkpoints, `<origin>+<hex key id>+<base64(0x01 ‖ Ed25519 key)>`, where the origin is `<KAKUNIN_LOG_NAME>/<issuer id>`. Pin it to verify checkpoints. The key lives in KMS (ECC_NIST_EDWARDS25519).",
  method: "get", path: "/{id}/tlog/vkey", tags: ["public"],
  request: { params: z.object({ id: IssuerParam }) },
  responses: { 200: text("The verifier key, one line"), ...PE },
});

async function requireIssuer(deps: AppDeps, id: string): Promise<void> {
  const issuer = await deps.db.selectFrom("issuers").select("id").where("id", "=", id).executeTakeFirst();
  if (!issuer) throw new NotFoundError(`Issuer ${id} not found`, "ERR_ISSUER_NOT_FOUND");
}

export function tlogRoutes() {
  const app = router();

  app.openapi(vkey, async (c) => {
    const deps = c.get("deps");
    const { id } = c.req.valid("param");
    await requireIssuer(deps, id);
    const line = await checkpointVerifierKey(deps.config.logName, id, deps.checkpointKey);
    return c.text(`${line}\n`, 200, { "content-type": "text/plain; charset=utf-8", "cache-control": "public, max-age=300" });
  });

  return app;
}
