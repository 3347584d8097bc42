import { notFound } from "../errors.js";
import { keyFromInput, type Operation } from "./context.js";
import { parsePolicy } from "./keys.js";

/** KMS keys have exactly one key policy, named "default". */
function policyName(name: string | undefined): string {
  const resolved = name ?? "default";
  if (resolved !== "default") throw notFound(`No such policy exists: ${resolved}`);
  return resolved;
}

export const getKeyPolicy: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: false });
  const name = policyName(input.optionalString("PolicyName", { max: 128 }));
  return { Policy: key.meta.policy, PolicyName: name };
};

export const putKeyPolicy: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: false });
  policyName(input.optionalString("PolicyName", { max: 128 }));
  key.meta.policy = parsePolicy(input.string("Policy", { max: 32768 }));
  await ctx.store.saveMeta(key);
  return undefined;
};
