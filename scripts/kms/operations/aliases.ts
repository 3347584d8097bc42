import { alreadyExists, notFound, validation } from "../errors.js";
import { nowSeconds } from "../key-store.js";
import { page } from "../paging.js";
import { requireNotPendingDeletion, resolveKey } from "../resolve-key.js";
import { keyFromInput, type Operation } from "./context.js";

const ALIAS_NAME_RE = /^alias\/[a-zA-Z0-9/_-]+$/;

export const createAlias: Operation = async (input, ctx) => {
  const aliasName = input.string("AliasName", { max: 256 });
  if (!ALIAS_NAME_RE.test(aliasName)) {
    throw validation(
      "Alias must start with the prefix \"alias/\" and contain only alphanumeric characters, '/', '_' or '-'.",
    );
  }
  if (aliasName.startsWith("alias/aws/"))
    throw validation("Alias names cannot begin with alias/aws/, which is reserved for AWS managed keys.");
  const key = keyFromInput(input, ctx, { allowAlias: false }, "TargetKeyId");
  requireNotPendingDeletion(key);
  if (ctx.store.getAlias(aliasName))
    throw alreadyExists(`An alias with the name ${ctx.store.aliasArn(aliasName)} already exists`);
  const now = nowSeconds();
  await ctx.store.putAlias({ aliasName, targetKeyId: key.meta.keyId, creationDate: now, lastUpdatedDate: now });
  return undefined;
};

/**
 * UpdateAlias (https://docs.aws.amazon.com/kms/latest/APIReference/API_UpdateAlias.html): points an
 * existing alias at another key of the same type and key usage; the alias name never changes, a key
 * pending deletion is refused (key states table), aliases are refused as TargetKeyId.
 */
export const updateAlias: Operation = async (input, ctx) => {
  const aliasName = input.string("AliasName", { max: 256 });
  if (!ALIAS_NAME_RE.test(aliasName)) throw validation(`Invalid alias name ${aliasName}`);
  const alias = ctx.store.getAlias(aliasName);
  if (!alias) throw notFound(`Alias ${ctx.store.aliasArn(aliasName)} is not found.`);
  const key = keyFromInput(input, ctx, { allowAlias: false }, "TargetKeyId");
  requireNotPendingDeletion(key);
  const current = ctx.store.get(alias.targetKeyId);
  if (
    current &&
    (current.meta.keyUsage !== key.meta.keyUsage || kindOf(current.meta.keySpec) !== kindOf(key.meta.keySpec))
  )
    throw validation(
      `${key.arn} cannot be the target of ${aliasName}: the current and new KMS key must be the same type and have the same key usage.`,
    );
  await ctx.store.putAlias({ ...alias, targetKeyId: key.meta.keyId, lastUpdatedDate: nowSeconds() });
  return undefined;
};

/** Every key spec here is asymmetric; "type" in UpdateAlias's sense is symmetric / asymmetric / HMAC. */
function kindOf(spec: string): "asymmetric" | "symmetric" | "hmac" {
  return spec.startsWith("HMAC_") ? "hmac" : spec === "SYMMETRIC_DEFAULT" ? "symmetric" : "asymmetric";
}

export const listAliases: Operation = async (input, ctx) => {
  const keyIdParam = input.optionalString("KeyId", { max: 2048 });
  const limit = input.optionalInteger("Limit", 1, 100) ?? 50;
  const marker = input.optionalString("Marker", { max: 1024 });
  let aliases = ctx.store.listAliases();
  if (keyIdParam !== undefined) {
    const key = resolveKey(ctx.store, keyIdParam, { allowAlias: false });
    ctx.resources.push(key.arn);
    aliases = aliases.filter((a) => a.targetKeyId === key.meta.keyId);
  }
  const result = page(aliases, (a) => a.aliasName, limit, marker);
  return {
    Aliases: result.items.map((a) => ({
      AliasName: a.aliasName,
      AliasArn: ctx.store.aliasArn(a.aliasName),
      TargetKeyId: a.targetKeyId,
      CreationDate: a.creationDate,
      LastUpdatedDate: a.lastUpdatedDate,
    })),
    Truncated: result.truncated,
    ...(result.nextMarker ? { NextMarker: result.nextMarker } : {}),
  };
};
