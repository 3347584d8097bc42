/**
 * KmsSignClient — KMS `Sign` (and nothing else) without the SDK's per-call middleware stack.
 *
 * Why: every audit-log append is one KMS Sign. Through @aws-sdk/client-kms a call costs ≈ 0.55 ms of
 * CPU on the calling event loop (middleware stack resolved per command, serde, endpoint and auth
 * resolution, SigV4 with fresh hashes, the node-http-handler), against ≈ 0.15 ms for the same HTTP
 * request made directly — at 1,000 appends/s that difference alone is 40 % of a core.
 *
 * What it still takes from the SDK client it is built from, so configuration is identical: the
 * resolved endpoint (the SDK's own endpoint provider: region, FIPS, dual-stack, KMS_ENDPOINT), the
 * credential provider chain (refreshing credentials, session tokens), `maxAttempts`, and the clock
 * skew offset. The wire protocol is AWS JSON 1.1 (`X-Amz-Target: TrentService.Sign`), signed with
 * SigV4 (the derived signing key is cached per day/region; a unit test checks the signature is the
 * one @smithy/signature-v4 computes). Errors come back shaped like the SDK's (name, $fault,
 * $metadata, $response headers, $retryable) so `mapKmsError` treats both paths alike; throttling,
 * 5xx and network errors are retried like the SDK's standard retry mode (`maxAttempts` in total),
 * never past the caller's AbortSignal (custody's per-call deadline, server/kms/deadline.ts).
 */
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { KMSClient } from "@aws-sdk/client-kms";
import { NETWORK_ERROR_CODES } from "./errors.js";

export interface SignRequest {
  keyId: string;
  digest: Uint8Array;
  algorithm: string;
}

export interface SignResponse {
  signature: Uint8Array;
  /** `x-amzn-RequestId`, when KMS sent one. */
  requestId: string | undefined;
}

interface Target {
  protocol: "http:" | "https:";
  hostname: string;
  port: number | undefined;
  path: string;
  host: string;
}

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** An error shaped like the SDK's service exceptions (what server/kms/errors.ts reads). */
export class KmsSignError extends Error {
  $fault: "client" | "server";
  $metadata: { httpStatusCode?: number; requestId?: string };
  $response: { statusCode: number; headers: Record<string, string | undefined> } | undefined;
  $retryable: { throttling?: boolean } | undefined;
  constructor(
    name: string,
    message: string,
    status: number | undefined,
    headers: Record<string, string | undefined> | undefined,
  ) {
    super(message);
    this.name = name;
    this.$fault = status !== undefined && status >= 500 ? "server" : "client";
    this.$metadata = {
      ...(status !== undefined ? { httpStatusCode: status } : {}),
      ...(headers?.["x-amzn-requestid"] ? { requestId: headers["x-amzn-requestid"] } : {}),
    };
    this.$response = status !== undefined ? { statusCode: status, headers: headers ?? {} } : undefined;
    this.$retryable = THROTTLING.has(name) ? { throttling: true } : undefined;
  }
}

const THROTTLING = new Set([
  "ThrottlingException",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ProvisionedThroughputExceededException",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "EC2ThrottledException",
]);
const TRANSIENT = new Set([
  "KMSInternalException",
  "DependencyTimeoutException",
  "InternalFailure",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
]);
const CLOCK_SKEW = new Set([
  "AuthFailure",
  "InvalidSignatureException",
  "RequestExpired",
  "RequestInTheFuture",
  "RequestTimeTooSkewed",
  "SignatureDoesNotMatch",
]);

const CONTENT_TYPE = "application/x-amz-json-1.1";
const TARGET = "TrentService.Sign";
const SERVICE = "kms";
const REQUEST_TIMEOUT_MS = 30_000;

const sha256Hex = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

/** SigV4 for one AWS JSON 1.1 POST to `/`: the Authorization header and the headers it covers. */
export function signV4(opts: {
  credentials: Credentials;
  region: string;
  host: string;
  target: string;
  body: string;
  /** epoch ms */
  now: number;
  signingKey?: (secret: string, day: string, region: string) => Buffer;
}): Record<string, string> {
  const { credentials, region, host, body } = opts;
  const amzDate = new Date(opts.now)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, ""); // 20240101T000000Z
  const day = amzDate.slice(0, 8);
  const token = credentials.sessionToken;
  const bodyHash = sha256Hex(body);
  // The headers the SDK signs too (x-amz-content-sha256 included), minus its per-call telemetry ones.
  const signedHeaders = `content-type;host;x-amz-content-sha256;x-amz-date;${token ? "x-amz-security-token;" : ""}x-amz-target`;
  const canonical = `POST\n/\n\ncontent-type:${CONTENT_TYPE}\nhost:${host}\nx-amz-content-sha256:${bodyHash}\nx-amz-date:${amzDate}\n${token ? `x-amz-security-token:${token}\n` : ""}x-amz-target:${opts.target}\n\n${signedHeaders}\n${bodyHash}`;
  const scope = `${day}/${region}/${SERVICE}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
  const key = (opts.signingKey ?? deriveSigningKey)(credentials.secretAccessKey, day, region);
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  return {
    "content-type": CONTENT_TYPE,
    host,
    "x-amz-content-sha256": bodyHash,
    "x-amz-date": amzDate,
    ...(token ? { "x-amz-security-token": token } : {}),
    "x-amz-target": opts.target,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

function deriveSigningKey(secret: string, day: string, region: string): Buffer {
  let k: Buffer = createHmac("sha256", `AWS4${secret}`).update(day).digest();
  k = createHmac("sha256", k).update(region).digest();
  k = createHmac("sha256", k).update(SERVICE).digest();
  return createHmac("sha256", k).update("aws4_request").digest();
}

/** AWS JSON error codes come as `Name`, `prefix#Name` or `Name:http://…`. */
function sanitizeErrorCode(raw: string): string {
  let code = raw;
  if (code.includes(":")) code = code.split(":")[0]!;
  if (code.includes("#")) code = code.split("#")[1]!;
  return code;
}

export class KmsSignClient {
  private target: Promise<Target> | undefined;
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });
  private keyCache: { secret: string; day: string; region: string; key: Buffer } | undefined;
  private region: string | undefined;
  private noSkewCorrection = false;

  constructor(private readonly client: KMSClient) {}

  /**
   * Signs with KMS; resolves to the raw signature bytes and the KMS request id (`x-amzn-RequestId`,
   * CloudTrail's `requestID`). Rejects with a KmsSignError (or a network error).
   */
  async sign(req: SignRequest, signal?: AbortSignal): Promise<SignResponse> {
    const target = await (this.target ??= this.resolveTarget());
    const maxAttempts = Math.max(1, await this.client.config.maxAttempts());
    const body = `{"KeyId":${JSON.stringify(req.keyId)},"Message":"${Buffer.from(req.digest.buffer, req.digest.byteOffset, req.digest.byteLength).toString("base64")}","MessageType":"DIGEST","SigningAlgorithm":${JSON.stringify(req.algorithm)}}`;
    for (let attempt = 1; ; attempt++) {
      try {
        const { out, requestId } = await this.post(target, body, signal);
        const sig = typeof out.Signature === "string" ? Buffer.from(out.Signature, "base64") : undefined;
        if (!sig || sig.length === 0)
          throw new KmsSignError("InvalidResponse", "KMS Sign returned no signature", 200, undefined);
        return { signature: new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength), requestId };
      } catch (err) {
        // Never retry past the caller's deadline (custody aborts `signal` when it passes).
        if (attempt >= maxAttempts || signal?.aborted || !this.retryable(err)) throw err;
        const throttled = (err as KmsSignError).$retryable?.throttling === true;
        await backoff(Math.random() * Math.min(20_000, (throttled ? 500 : 100) * 2 ** (attempt - 1)), signal);
      }
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private retryable(err: unknown): boolean {
    const e = err as KmsSignError & { code?: string };
    if (typeof e?.code === "string" && NETWORK_ERROR_CODES.has(e.code)) return true;
    if (!(err instanceof KmsSignError)) return false;
    if (e.$retryable?.throttling || TRANSIENT.has(e.name) || e.$fault === "server") return true;
    return CLOCK_SKEW.has(e.name) && this.correctClock(e);
  }

  /** As the SDK: a skew error whose Date header is ≥ 5 min off our clock updates the offset (then retry). */
  private correctClock(e: KmsSignError): boolean {
    if (this.noSkewCorrection) return false;
    const date = e.$response?.headers["date"];
    const serverTime = date ? Date.parse(date) : NaN;
    if (!Number.isFinite(serverTime)) return false;
    const offset = serverTime - Date.now();
    if (Math.abs(offset - (this.client.config.systemClockOffset ?? 0)) < 300_000) return false;
    this.client.config.systemClockOffset = offset;
    return true;
  }

  private async resolveTarget(): Promise<Target> {
    const c = this.client.config;
    const region = await c.region();
    this.region = region;
    this.noSkewCorrection = (await c.disableClockSkewCorrection?.()) === true;
    const custom = c.isCustomEndpoint && c.endpoint ? await c.endpoint() : undefined;
    const customUrl = custom
      ? `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ""}${custom.path ?? "/"}`
      : undefined;
    const { url } = c.endpointProvider({
      Region: region,
      UseFIPS: await c.useFipsEndpoint(),
      UseDualStack: await c.useDualstackEndpoint(),
      ...(customUrl ? { Endpoint: customUrl } : {}),
    });
    const protocol = url.protocol === "http:" ? "http:" : "https:";
    return {
      protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname || "/",
      host: url.port ? `${url.hostname}:${url.port}` : url.hostname,
    };
  }

  private signingKey = (secret: string, day: string, region: string): Buffer => {
    const c = this.keyCache;
    if (c && c.secret === secret && c.day === day && c.region === region) return c.key;
    const key = deriveSigningKey(secret, day, region);
    this.keyCache = { secret, day, region, key };
    return key;
  };

  private async post(
    target: Target,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ out: Record<string, unknown>; requestId: string | undefined }> {
    if (signal?.aborted) throw signal.reason;
    const credentials = (await this.client.config.credentials()) as Credentials;
    const headers = signV4({
      credentials,
      region: this.region!,
      host: target.host,
      target: TARGET,
      body,
      now: Date.now() + (this.client.config.systemClockOffset ?? 0),
      signingKey: this.signingKey,
    });
    headers["content-length"] = String(Buffer.byteLength(body));
    const mod = target.protocol === "http:" ? http : https;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          ...(target.port !== undefined ? { port: target.port } : {}),
          path: target.path,
          method: "POST",
          headers,
          agent: target.protocol === "http:" ? this.httpAgent : this.httpsAgent,
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const text = chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8");
            let parsed: Record<string, unknown> = {};
            try {
              parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
            } catch {
              if (status < 300)
                return reject(
                  new KmsSignError(
                    "InvalidResponse",
                    "KMS Sign returned a body that is not JSON",
                    status,
                    flatHeaders(res.headers),
                  ),
                );
            }
            if (status >= 200 && status < 300) {
              const id = res.headers["x-amzn-requestid"];
              return resolve({ out: parsed, requestId: typeof id === "string" && id ? id : undefined });
            }
            const h = flatHeaders(res.headers);
            const rawCode =
              h["x-amzn-errortype"] ??
              (typeof parsed.__type === "string"
                ? parsed.__type
                : typeof parsed.code === "string"
                  ? parsed.code
                  : undefined);
            const name = rawCode ? sanitizeErrorCode(rawCode) : status >= 500 ? "InternalFailure" : "UnknownError";
            const message =
              typeof parsed.message === "string"
                ? parsed.message
                : typeof parsed.Message === "string"
                  ? parsed.Message
                  : name;
            reject(new KmsSignError(name, message, status, h));
          });
        },
      );
      req.on("timeout", () =>
        req.destroy(
          Object.assign(new Error(`KMS Sign timed out after ${REQUEST_TIMEOUT_MS} ms`), { code: "ETIMEDOUT" }),
        ),
      );
      const onAbort = () =>
        req.destroy(
          signal!.reason instanceof Error
            ? signal!.reason
            : Object.assign(new Error("KMS Sign aborted"), { code: "ETIMEDOUT" }),
        );
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("close", () => signal?.removeEventListener("abort", onAbort));
      req.on("error", reject);
      req.end(body);
    });
  }
}

/** Sleeps `ms`, or until `signal` aborts (then rejects with its reason). */
function backoff(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(", ") : v;
  return out;
}
