import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AccessLog, loggedParameters } from "./access-log.js";
import { CloudTrailFiles } from "./cloudtrail-files.js";
import type { KmsConfig } from "./config.js";
import { SigningPool } from "./crypto/worker-pool.js";
import { internal, KmsError, unknownOperation } from "./errors.js";
import { injectFaults } from "./faults.js";
import { Input } from "./input.js";
import { KeyStore } from "./key-store.js";
import { OPERATIONS } from "./operations/index.js";
import type { OperationContext } from "./operations/context.js";

/**
 * HTTP front of the local KMS: AWS JSON 1.1 (`POST /`, `X-Amz-Target: TrentService.<Op>`).
 * SigV4 signatures are accepted without checking; only the access key id is read, for the log.
 */
const CONTENT_TYPE = "application/x-amz-json-1.1";
const TARGET_PREFIX = "TrentService.";
const MAX_BODY_BYTES = 1024 * 1024;

export interface RunningKms {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startKmsServer(config: KmsConfig): Promise<RunningKms> {
  const store = await KeyStore.open(config.dataDir, config.region, config.account);
  const cloudTrail =
    config.cloudTrailDir === undefined
      ? undefined
      : await CloudTrailFiles.open(config.cloudTrailDir, config.region, config.account, config.cloudTrailFlushMs);
  const accessLog = await AccessLog.open(config.accessLogPath, config.region, config.account, cloudTrail);
  const pool = new SigningPool(config.workers);
  store.onKeyDeleted = (keyId) => pool.forget(keyId);
  await pool.ready();

  const server = createServer((req, res) => {
    void handle(req, res).catch((err) => {
      console.error("local KMS: unhandled error", err);
      if (!res.headersSent)
        send(res, randomUUID(), 500, { __type: "KMSInternalException", message: "Internal failure" });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const resources: string[] = [];
    let eventName = "Unknown";
    let rawBody: Record<string, unknown> | undefined;
    let status = 200;
    let payload: Record<string, unknown> | undefined;
    let error: KmsError | undefined;
    try {
      const text = await readBody(req);
      if (req.method !== "POST" || !isRootPath(req.url ?? "/")) throw unknownOperation();
      const target = req.headers["x-amz-target"];
      const opName =
        typeof target === "string" && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
      const operation = Object.hasOwn(OPERATIONS, opName) ? OPERATIONS[opName] : undefined;
      if (!operation) throw unknownOperation();
      eventName = opName;
      const input = Input.parse(text);
      rawBody = input.body;
      await injectFaults(config.faults);
      const ctx: OperationContext = { store, pool, resources };
      payload = await operation(input, ctx);
    } catch (err) {
      if (!(err instanceof KmsError)) console.error("local KMS: internal error", err);
      error = err instanceof KmsError ? err : internal();
      status = error.httpStatus;
      payload = { __type: error.code, message: error.message };
    }
    accessLog.record({
      eventName,
      requestId,
      accessKeyId: accessKeyIdOf(req.headers.authorization),
      sourceIp: req.socket.remoteAddress,
      userAgent: typeof req.headers["user-agent"] === "string" ? req.headers["user-agent"].slice(0, 512) : undefined,
      requestParameters: loggedParameters(eventName, rawBody),
      resources,
      errorCode: error?.code,
      errorMessage: error?.message,
    });
    send(res, requestId, status, payload, error?.code);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${config.host}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        // Stop accepting; let in-flight requests finish (keep-alive idle sockets would hold close() open).
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 5_000);
        await closed;
        clearTimeout(force);
        await store.flush();
        await accessLog.close();
        await pool.close();
      })();
      return closing;
    },
  };
}

function send(
  res: ServerResponse,
  requestId: string,
  status: number,
  payload: Record<string, unknown> | undefined,
  errorType?: string,
) {
  const body = payload === undefined ? "" : JSON.stringify(payload);
  const headers: OutgoingHttpHeaders = {
    "Content-Type": CONTENT_TYPE,
    "Content-Length": Buffer.byteLength(body),
    "x-amzn-RequestId": requestId,
  };
  if (errorType) headers["x-amzn-ErrorType"] = errorType;
  res.writeHead(status, headers);
  res.end(body);
}

/** `/`, with or without a query string. */
const isRootPath = (url: string) => url === "/" || url.startsWith("/?");

/** Reads the body with a size cap (the request is attacker-controlled). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        failed = true;
        reject(new KmsError("ValidationException", "Request body too large"));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", (e) => {
      failed = true;
      reject(e);
    });
  });
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/kms/aws4_request, ...` -> `AKID`. */
export function accessKeyIdOf(authorization: string | undefined): string | undefined {
  const match = /Credential=([A-Za-z0-9]{1,128})\//.exec(authorization ?? "");
  return match?.[1];
}
