/**
 * Request bodies: read only after the caller is authenticated, within a size limit and a shared
 * buffer budget, and parsed as strict I-JSON.
 *
 * - Nothing reads a body before `requireRole` has resolved the bearer token (server/auth), so an
 *   unauthenticated client cannot make the server buffer anything: its request gets the 401 with
 *   `Connection: close` ({@link closeIfBodyUnread}) and the unread bytes are dropped with the socket.
 * - Under @hono/node-server the body is read straight from `c.env.incoming` (building a WHATWG
 *   Request and reading it back through a web stream costs ≈ 0.1 ms of CPU per request on the append
 *   hot path), with the limit enforced while reading (Content-Length checked first) and all bodies
 *   being read at once sharing {@link BodyBudget} (beyond it: 503 ERR_OVERLOADED). The bytes go to
 *   Hono's body cache and to `incoming.rawBody`, so anything that still asks for `c.req.raw` gets them.
 *   Elsewhere (app.request() in tests, other runtimes) the Request's body is read and checked after.
 * - A JSON body must be UTF-8 and I-JSON (i-json.ts); `c.req.json()` then returns the value parsed
 *   here, so the route's validator and the log see exactly what was checked.
 */
import type { IncomingMessage } from "node:http";
import { isUtf8 } from "node:buffer";
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.js";
import { KakuninError, OverloadedError, PayloadTooLargeError, ValidationError } from "../errors.js";
import { IJsonViolation, MalformedJson, parseIJson } from "./i-json.js";

/** The validators' notion of a JSON body (hono/validator). */
const JSON_TYPE = /^application\/([a-z-.]+\+)?json(\s*;.*)?$/i;

/** Bytes of request bodies being buffered at once, across all requests of the process. */
export class BodyBudget {
  private used = 0;
  constructor(readonly limit: number) {}
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used -= n;
  }
  get inUse(): number {
    return this.used;
  }
}

/** The client went away (or was cut by a timeout) while its body was being read; nothing to answer. */
export class RequestAbortedError extends KakuninError {
  constructor() {
    super(400, "ERR_REQUEST_ABORTED", "The request body was not received completely");
  }
}

type Incoming = IncomingMessage & { rawBody?: Buffer };

/**
 * Read (once) and check the request's body: size limit, budget, UTF-8 and I-JSON for JSON bodies.
 * Called by `requireRole` after authentication; a no-op for GET/HEAD and for a body already read.
 */
export async function readRequestBody(c: Context<AppEnv>): Promise<void> {
  const method = c.req.method;
  if (method === "GET" || method === "HEAD") return;
  const { bodyLimit, bodyBudget } = c.get("deps").config;
  const budget = budgetFor(bodyBudget);
  const incoming = (c.env as { incoming?: Incoming } | undefined)?.incoming;
  let bytes: Buffer;
  if (incoming && typeof incoming.on === "function") {
    if (incoming.rawBody === undefined) {
      const declared = incoming.headers["content-length"];
      if (
        declared !== undefined &&
        incoming.headers["transfer-encoding"] === undefined &&
        Number.parseInt(declared, 10) > bodyLimit
      )
        throw new PayloadTooLargeError(bodyLimit);
      incoming.rawBody = incoming.readableEnded ? Buffer.alloc(0) : await readLimited(incoming, bodyLimit, budget);
    }
    bytes = incoming.rawBody;
  } else {
    bytes = Buffer.from(await c.req.raw.arrayBuffer());
    if (bytes.length > bodyLimit) throw new PayloadTooLargeError(bodyLimit);
  }
  // Hono's HonoRequest caches bodies by kind; arrayBuffer first (other kinds are derived from the first cached one).
  const req = c.req as unknown as { bodyCache: Record<string, Promise<unknown>>; json: () => Promise<unknown> };
  req.bodyCache.arrayBuffer = Promise.resolve(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  const type = c.req.header("content-type");
  // An empty body is no body (e.g. `POST …/tokens` sent with a JSON content type): routes that need
  // one refuse it in their validator, as before.
  if (!type || !JSON_TYPE.test(type) || bytes.length === 0) {
    req.bodyCache.text = Promise.resolve(bytes.toString("utf8"));
    return;
  }
  // Buffer#toString would silently turn invalid UTF-8 into U+FFFD: a different payload than was sent.
  if (!isUtf8(bytes))
    throw new ValidationError("Request body is not valid UTF-8 (RFC 8259 §8.1)", { code: "ERR_MALFORMED_JSON" });
  const text = bytes.toString("utf8");
  req.bodyCache.text = Promise.resolve(text);
  let value: unknown;
  try {
    value = parseIJson(text);
  } catch (e) {
    if (e instanceof MalformedJson)
      throw new ValidationError("Request body is not valid JSON", { code: "ERR_MALFORMED_JSON" });
    if (e instanceof IJsonViolation) throw new ValidationError(e.message, { status: 422, code: e.code, field: e.path });
    throw e;
  }
  // Shadow HonoRequest#json (which would JSON.parse the text again) with the value checked here.
  const parsed = Promise.resolve(value);
  req.json = () => parsed;
}

/**
 * App-wide middleware: a response sent without the request's body having been read (a 401, 403,
 * 404 or 413 before the body) closes the connection, so the client's remaining bytes are never
 * received, let alone buffered.
 */
export function closeIfBodyUnread(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const incoming = (c.env as { incoming?: Incoming } | undefined)?.incoming;
    if (!incoming || incoming.readableEnded || incoming.rawBody !== undefined) return;
    const h = incoming.headers;
    const hasBody =
      h["transfer-encoding"] !== undefined || (h["content-length"] !== undefined && h["content-length"] !== "0");
    if (!hasBody) return;
    try {
      c.res.headers.set("connection", "close");
    } catch {
      c.header("connection", "close");
    }
  };
}

const budgets = new Map<number, BodyBudget>();
/** One budget per configured size (per process in production; tests may run apps side by side). */
function budgetFor(limit: number): BodyBudget {
  let b = budgets.get(limit);
  if (!b) budgets.set(limit, (b = new BodyBudget(limit)));
  return b;
}

/** The whole body; PayloadTooLarge as soon as it exceeds `max` bytes (the rest is not read). */
function readLimited(incoming: IncomingMessage, max: number, budget: BodyBudget): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (e: Error) => {
      cleanup();
      incoming.pause();
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > max) return fail(new PayloadTooLargeError(max));
      if (!budget.take(chunk.length))
        return fail(new OverloadedError("Too many request bodies are being received at once; retry later"));
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = () => fail(new RequestAbortedError());
    const cleanup = () => {
      budget.give(size);
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onError);
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
    incoming.on("close", onError);
  });
}
