/** The witness's HTTP routes (Hono): add-checkpoint, the monitoring checkpoint, and the index. */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import type { Answer } from "./add-checkpoint.js";
import type { Stores } from "./store.js";
import type { TrustedLogs } from "./trust.js";

/** Largest request body accepted: 63 proof lines and a checkpoint with many signatures fit easily. */
const MAX_BODY_BYTES = 64 * 1024;

export interface WitnessAppDeps {
  prefix: string;
  name: string;
  vkey: string;
  logs: TrustedLogs;
  stores: Stores;
  addCheckpoint: (body: string) => Promise<Answer>;
  log: Logger;
}

function send(a: Answer): Response {
  return new Response(a.body, { status: a.status, headers: { "content-type": a.contentType } });
}
function problem(status: number, code: string, detail: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", status, code, title: code, detail }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
}

/** Builds the app; handlers only validate → call → render. */
export function witnessApp(d: WitnessAppDeps): Hono {
  const app = new Hono();
  const p = d.prefix;

  // bodyLimit stops reading at the limit (also without a Content-Length), so a huge body costs nothing.
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => problem(413, "ERR_WITNESS_TOO_LARGE", `the body is over ${MAX_BODY_BYTES} bytes`),
  });
  app.post(`${p}/add-checkpoint`, limit, async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    let body: string;
    try {
      body = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      return problem(400, "ERR_WITNESS_REQUEST", "the body is not valid UTF-8");
    }
    const a = await d.addCheckpoint(body);
    if (a.refusal) {
      // The log's own signature verified: this may be evidence of misbehaviour, so it is kept.
      d.stores.forOrigin(a.refusal.origin).recordRefusal({ status: a.status, reason: a.refusal.reason, body });
      d.log.warn(
        { origin: a.refusal.origin, status: a.status, reason: a.refusal.reason, request: body },
        "refused a validly signed checkpoint",
      );
    }
    return send(a);
  });

  app.get(`${p}/:hash{[0-9a-f]{64}}/checkpoint`, (c) => {
    const latest = d.stores.byHash(c.req.param("hash"))?.latest();
    if (!latest)
      return problem(404, "ERR_WITNESS_NO_CHECKPOINT", "this witness never cosigned a checkpoint of that origin");
    return new Response(latest.note, { headers: { "content-type": "text/plain; charset=utf-8" } });
  });

  app.get(`${p}/`, (c) =>
    c.json({
      name: d.name,
      vkey: d.vkey,
      cosignature: "cosignature/v1 (Ed25519)",
      logs: [...d.logs.exact.entries()].map(([origin, keys]) => ({ origin, vkeys: keys.map((k) => k.vkey) })),
      originPrefixes: d.logs.prefixes.map((x) => ({ prefix: x.prefix, vkey: x.vkey })),
    }),
  );

  app.notFound(() => problem(404, "ERR_NOT_FOUND", "no such route"));
  app.onError((err) => {
    d.log.error({ err: { name: err.name, message: err.message } }, "internal error");
    return problem(500, "ERR_INTERNAL", "internal error");
  });
  return app;
}
