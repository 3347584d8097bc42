/** @kakunin/client: the typed Kakunin API client (the `kakunin` CLI is built on it). */
export {
  createKakuninClient,
  type KakuninClient,
  type KakuninClientOptions,
  type Agent,
  type Receipt,
  type Checkpoint,
  type RevocationReason,
  type OperationBody,
  type Schemas,
} from "./client.js";
export { KakuninApiError, parseRetryAfter, type Problem } from "./errors.js";
export { retryingFetch, retryDelayMs, type RetryOptions } from "./retry.js";
export type { paths, components, operations } from "./api.gen.js";
