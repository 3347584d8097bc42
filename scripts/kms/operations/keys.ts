import { invalidState, malformedPolicy, unsupportedOperation, validation } from "../errors.js";
import { isKeySpec, KEY_SPECS, type KeyUsage } from "../key-specs.js";
import { keyMetadata } from "../key-metadata.js";
import { nowSeconds } from "../key-store.js";
import { page } from "../paging.js";
import { requireNotPendingDeletion } from "../resolve-key.js";
import { keyFromInput, type Operation } from "./context.js";
import { parseTags } from "./tags.js";

const DAY = 24 * 60 * 60;

export function parsePolicy(policy: string): string {
  try {
    JSON.parse(policy);
  } catch {
    throw malformedPolicy("The key policy is not valid JSON.");
  }
  return policy;
}

export const createKey: Operation = async (input, ctx) => {
  const keySpec =
    input.optionalString("KeySpec") ?? input.optionalString("CustomerMasterKeySpec") ?? "SYMMETRIC_DEFAULT";
  if (!isKeySpec(keySpec)) {
    throw unsupportedOperation(
      `KeySpec ${keySpec} is not supported by the local KMS (use RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256 or ECC_NIST_EDWARDS25519).`,
    );
  }
  // KMS defaults KeyUsage to ENCRYPT_DECRYPT, which only RSA specs allow.
  const keyUsage: KeyUsage =
    (input.optionalEnum("KeyUsage", [
      "SIGN_VERIFY",
      "ENCRYPT_DECRYPT",
      "GENERATE_VERIFY_MAC",
      "KEY_AGREEMENT",
    ] as const) as KeyUsage) ?? "ENCRYPT_DECRYPT";
  if (!KEY_SPECS[keySpec].usages.includes(keyUsage)) {
    throw validation(`KeyUsage ${keyUsage} is not compatible with KeySpec ${keySpec}`);
  }
  const origin = input.optionalString("Origin");
  if (origin !== undefined && origin !== "AWS_KMS")
    throw unsupportedOperation(`Origin ${origin} is not supported by the local KMS.`);
  if (input.optionalBoolean("MultiRegion"))
    throw unsupportedOperation("Multi-Region keys are not supported by the local KMS.");
  const description = input.optionalString("Description", { min: 0, max: 8192 }) ?? "";
  const policyText = input.optionalString("Policy", { max: 32768 });
  const policy = policyText === undefined ? undefined : parsePolicy(policyText);
  const tags = parseTags(input.optionalArray("Tags") ?? []);

  const key = await ctx.store.create({ keySpec, keyUsage, description, policy, tags });
  ctx.resources.push(key.arn);
  return { KeyMetadata: keyMetadata(key, ctx.store.account) };
};

export const describeKey: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: true });
  return { KeyMetadata: keyMetadata(key, ctx.store.account) };
};

export const disableKey: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: false });
  requireNotPendingDeletion(key);
  key.meta.state = "Disabled";
  await ctx.store.saveMeta(key);
  return undefined;
};

export const enableKey: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: false });
  requireNotPendingDeletion(key);
  key.meta.state = "Enabled";
  await ctx.store.saveMeta(key);
  return undefined;
};

export const scheduleKeyDeletion: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: false });
  const days = input.optionalInteger("PendingWindowInDays", 7, 30) ?? 30;
  requireNotPendingDeletion(key);
  key.meta.state = "PendingDeletion";
  key.meta.deletionDate = Math.floor(nowSeconds() + days * DAY);
  await ctx.store.saveMeta(key);
  return {
    KeyId: key.arn,
    DeletionDate: key.meta.deletionDate,
    KeyState: "PendingDeletion",
    PendingWindowInDays: days,
  };
};

export const cancelKeyDeletion: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: false });
  if (key.meta.state !== "PendingDeletion") throw invalidState(`${key.arn} is not pending deletion.`);
  // As in KMS, a key rescued from deletion comes back Disabled.
  key.meta.state = "Disabled";
  delete key.meta.deletionDate;
  await ctx.store.saveMeta(key);
  return { KeyId: key.arn };
};

export const listKeys: Operation = async (input, ctx) => {
  const limit = input.optionalInteger("Limit", 1, 1000) ?? 100;
  const marker = input.optionalString("Marker", { max: 1024 });
  const result = page(ctx.store.list(), (k) => k.meta.keyId, limit, marker);
  return {
    Keys: result.items.map((k) => ({ KeyId: k.meta.keyId, KeyArn: k.arn })),
    Truncated: result.truncated,
    ...(result.nextMarker ? { NextMarker: result.nextMarker } : {}),
  };
};
