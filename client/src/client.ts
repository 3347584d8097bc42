/**
 * The typed Kakunin client: openapi-fetch over the generated `paths` (src/api.gen.ts), with the
 * retry policy of retry.ts and every non-2xx answer raised as a KakuninApiError.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./api.gen.js";
import { errorFromResponse } from "./errors.js";
import { retryingFetch, type RetryOptions } from "./retry.js";

export type Schemas = components["schemas"];
export type Agent = Schemas["Agent"];
export type Receipt = Schemas["Receipt"];
export type Checkpoint = Schemas["Checkpoint"];
export type RevocationReason = Schemas["Revoke"]["reason"];
export type OperationBody = Schemas["Operation"];
export type ResponseSettings = Schemas["ResponseSettings"];

export interface KakuninClientOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** Bearer token (kkn_op_…, kkn_iss_… or kkn_agt_…); omit for the public routes. */
  token?: string;
  retry?: RetryOptions;
  /** Underlying fetch (default: global fetch). */
  fetch?: typeof fetch;
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** Query and path numbers go out as the decimal strings the API's hardened parameters declare. */
function decimals<Q extends object>(
  q: Q,
): { [K in keyof Q]: Q[K] extends number | undefined ? string | undefined : Q[K] } {
  return Object.fromEntries(Object.entries(q).map(([k, v]) => [k, typeof v === "number" ? String(v) : v])) as never;
}

function unwrap<T>(r: Result<T>): T {
  if (r.response.ok) return r.data as T;
  throw errorFromResponse(r.response, r.error);
}

/** A client for one Kakunin server and token. `raw` is the openapi-fetch client for any route. */
export function createKakuninClient(opts: KakuninClientOptions) {
  const raw = createClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/+$/, ""),
    fetch: retryingFetch(opts.retry, opts.fetch),
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
  });
  const id = (agentId: string) => ({ params: { path: { id: agentId } } });
  return {
    raw,
    health: async () => unwrap(await raw.GET("/healthz")),
    createIssuer: async (name: string) => unwrap(await raw.POST("/v1/issuers", { body: { name } })),
    createAgent: async (name: string) => unwrap(await raw.POST("/v1/agents", { body: { name } })),
    listAgents: async (q: { expiring?: string } = {}) =>
      unwrap(await raw.GET("/v1/agents", { params: { query: q } })).agents,
    getAgent: async (agentId: string) => unwrap(await raw.GET("/v1/agents/{id}", id(agentId))),
    rotateAgent: async (agentId: string) => unwrap(await raw.POST("/v1/agents/{id}/rotate", id(agentId))),
    revokeAgent: async (agentId: string, reason: RevocationReason) =>
      unwrap(await raw.POST("/v1/agents/{id}/revoke", { ...id(agentId), body: { reason } })),
    createAgentToken: async (agentId: string) => unwrap(await raw.POST("/v1/agents/{id}/tokens", id(agentId))),
    /** Lifts a suspension a critical alert put on the agent's tokens. */
    resumeAgentTokens: async (agentId: string) => unwrap(await raw.POST("/v1/agents/{id}/tokens/resume", id(agentId))),
    /** The issuer's responses to key-usage alerts (issuer: its own; operator: any). */
    issuerResponses: async (issuerId: string) =>
      unwrap(await raw.GET("/v1/issuers/{id}/responses", { params: { path: { id: issuerId } } })),
    setIssuerResponses: async (issuerId: string, body: ResponseSettings) =>
      unwrap(await raw.PUT("/v1/issuers/{id}/responses", { params: { path: { id: issuerId } }, body })),
    /** Signs an operation; resolves once the entry is durably committed. */
    sign: async (agentId: string, body: OperationBody): Promise<Receipt> =>
      unwrap(await raw.POST("/v1/agents/{id}/operations", { ...id(agentId), body })),
    logEntries: async (q: { from?: number; to?: number; limit?: number } = {}) =>
      unwrap(await raw.GET("/v1/log/entries", { params: { query: decimals(q) } })),
    checkpoint: async () => unwrap(await raw.GET("/v1/log/checkpoint")),
    publicCheckpoint: async (issuerId: string) =>
      unwrap(await raw.GET("/v1/public/issuers/{id}/checkpoint", { params: { path: { id: issuerId } } })),
    /** The NDJSON export as a byte stream (not buffered). */
    exportLog: async (q: { from?: number; to?: number; payloads?: boolean } = {}) => {
      const query = {
        ...decimals({ from: q.from, to: q.to }),
        payloads: q.payloads ? ("true" as const) : ("false" as const),
      };
      const r = await raw.GET("/v1/log/export", { params: { query }, parseAs: "stream" });
      // openapi-fetch has already read an error body into `error`; the body stream is used up.
      if (!r.response.ok)
        throw errorFromResponse(r.response, r.error ?? (await r.response.text().catch(() => undefined)));
      return r.data as unknown as ReadableStream<Uint8Array>;
    },
    erasePayload: async (seq: number) => {
      unwrap(await raw.DELETE("/v1/log/entries/{seq}/payload", { params: { path: { seq: String(seq) } } }));
    },
    caPem: async () => unwrap(await raw.GET("/v1/public/ca.pem", { parseAs: "text" })) as string,
    crlPem: async () => unwrap(await raw.GET("/v1/public/crl.pem", { parseAs: "text" })) as string,
    publicAgent: async (agentId: string) => unwrap(await raw.GET("/v1/public/agents/{id}", id(agentId))),
    publicCertificate: async (serial: string) =>
      unwrap(await raw.GET("/v1/public/certificates/{serial}", { params: { path: { serial } } })),
    directory: async () => unwrap(await raw.GET("/v1/public/directory")),
  };
}

export type KakuninClient = ReturnType<typeof createKakuninClient>;
