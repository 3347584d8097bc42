import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../http/env.js";

const AGENT_PATH = /^\/v1\/agents\/([^/]+)(\/.*)?$/;
const OPERATIONS = /^\/v1\/agents\/[^/]+\/operations$/;

/**
 * Tells key-usage monitoring what happened on an agent's routes, after the handler answered:
 * a signature (201 on `POST …/operations`, with the token id and the client address), a Sign
 * refused on a disabled or revoked key or certificate (409 there), an authentication or
 * authorisation failure against the agent (401/403 on any of its routes). One synchronous call
 * into the detectors (about a microsecond); no query, no I/O on the request's path.
 */
export function observeAgentRequests() {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const monitoring = c.get("deps").monitoring;
    if (!monitoring) return;
    const status = c.res.status;
    if (status !== 201 && status !== 409 && status !== 401 && status !== 403) return;
    const m = AGENT_PATH.exec(c.req.path);
    if (!m) return;
    const agentId = decodeURIComponent(m[1]!);
    const timeMs = Date.now();
    const principal = c.get("principal");
    const issuerId = principal && principal.role !== "operator" ? principal.issuerId : undefined;
    const signing = c.req.method === "POST" && OPERATIONS.test(c.req.path);
    if (status === 401 || status === 403) {
      monitoring.observe({
        type: "auth-failure",
        timeMs,
        issuerId,
        agentId,
        sourceAddress: sourceAddress(c),
        code: status === 401 ? "ERR_UNAUTHORIZED" : "ERR_FORBIDDEN",
      });
    } else if (signing && status === 201 && issuerId !== undefined) {
      monitoring.observe({
        type: "sign",
        timeMs,
        issuerId,
        agentId,
        keyArn: c.get("signedWithKey") ?? "",
        tokenId: c.get("tokenId") ?? "",
        sourceAddress: sourceAddress(c) ?? "",
      });
    } else if (signing && status === 409 && issuerId !== undefined) {
      monitoring.observe({
        type: "sign-refused",
        timeMs,
        issuerId,
        agentId,
        keyArn: undefined,
        tokenId: c.get("tokenId"),
        sourceAddress: sourceAddress(c),
        code: "HTTP_409",
      });
    }
  });
}

/** The peer's address as the server's socket saw it (no proxy headers are trusted). */
function sourceAddress(c: Context<AppEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined; // not under @hono/node-server (app.request in tests)
  }
}
