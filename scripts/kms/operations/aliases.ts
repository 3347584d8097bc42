import { alreadyExists, validation } from "../errors.js";
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
