/**
 * Node's HTTP server as Kakunin runs it: deadlines for headers, for the whole request and for idle
 * connections, and problem+json bodies on the errors Node answers itself (431, 408, 400), which
 * never reach Hono.
 */
import type { Server, ServerOptions } from "node:http";
import type { Duplex } from "node:stream";
import type { Config } from "../config.js";
import { problemType } from "../errors.js";

/**
 * `requestTimeout` cuts a body trickled a byte at a time (Node's default is 300 s, checked every
 * 30 s); `headersTimeout` does the same for headers. Node checks both every
 * `connectionsCheckingInterval`, so that is kept well below them.
 */
export function httpServerOptions(config: Pick<Config, "requestTimeoutMs" | "headersTimeoutMs">): ServerOptions {
  const requestTimeout = config.requestTimeoutMs;
  const headersTimeout = Math.min(config.headersTimeoutMs, requestTimeout); // Node refuses headersTimeout > requestTimeout
  return {
    requestTimeout,
    headersTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}

const CLIENT_ERRORS: Record<string, { status: number; title: string; code: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    title: "Request Header Fields Too Large",
    code: "ERR_HEADERS_TOO_LARGE",
    detail: "The request's headers exceed the server's limit",
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    title: "Request Timeout",
    code: "ERR_REQUEST_TIMEOUT",
    detail: "The request was not received within the server's deadline",
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    title: "Content Too Large",
    code: "ERR_PAYLOAD_TOO_LARGE",
    detail: "Chunk extensions exceed the server's limit",
  },
};
const BAD_REQUEST = {
  status: 400,
  title: "Bad Request",
  code: "ERR_BAD_REQUEST",
  detail: "The request is not valid HTTP/1.1",
};

/** The raw HTTP response Node would have written, with an RFC 9457 body instead of none. */
export function clientErrorResponse(errorCode: string | undefined): string {
  const p = CLIENT_ERRORS[errorCode ?? ""] ?? BAD_REQUEST;
  const body = JSON.stringify({
    type: problemType(p.code),
    title: p.title,
    status: p.status,
    detail: p.detail,
    code: p.code,
  });
  return `HTTP/1.1 ${p.status} ${p.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Install the deadlines and the problem+json client-error handler on `server`. Mirrors Node's own
 * handler: answer only where no response has begun on the socket, then close it.
 */
export function hardenHttpServer(server: Server, config: Pick<Config, "idleTimeoutMs">): void {
  // A connection sending nothing (and being sent nothing) for this long is destroyed.
  server.setTimeout(config.idleTimeoutMs);
  server.on(
    "clientError",
    (err: Error & { code?: string }, socket: Duplex & { _httpMessage?: { headersSent?: boolean } }) => {
      if (err.code === "ECONNRESET" || !socket.writable || socket._httpMessage?.headersSent) {
        socket.destroy();
        return;
      }
      socket.end(clientErrorResponse(err.code));
      // A client that does not read its answer must not keep the socket.
      setTimeout(() => socket.destroy(), 1000).unref();
    },
  );
}
