import type { SigningPool } from "../crypto/worker-pool.js";
import type { Input } from "../input.js";
import type { KeyStore, StoredKey } from "../key-store.js";
import { resolveKey } from "../resolve-key.js";

export interface OperationContext {
  store: KeyStore;
  pool: SigningPool;
  /** Key ARNs touched by this call, for the access log's resources[]. */
  resources: string[];
}

/** An operation returns its JSON output, or undefined for an empty body. */
export type Operation = (input: Input, ctx: OperationContext) => Promise<Record<string, unknown> | undefined>;

/** Resolves the KeyId parameter and records the key for the access log. */
export function keyFromInput(
  input: Input,
  ctx: OperationContext,
  options: { allowAlias: boolean },
  param = "KeyId",
): StoredKey {
  const key = resolveKey(ctx.store, input.string(param, { max: 2048 }), options);
  ctx.resources.push(key.arn);
  return key;
}
