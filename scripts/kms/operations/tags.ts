import { tagError, validation } from "../errors.js";
import type { Tag } from "../key-store.js";
import { page } from "../paging.js";
import { requireNotPendingDeletion } from "../resolve-key.js";
import { keyFromInput, type Operation } from "./context.js";

const MAX_TAGS = 50;

/** Validates a Tags list (attacker-controlled); later duplicates win. */
export function parseTags(raw: unknown[]): Tag[] {
  const byKey = new Map<string, string>();
  for (const item of raw) {
    if (typeof item !== "object" || item === null) throw validation("Each tag must be an object");
    const { TagKey, TagValue } = item as Record<string, unknown>;
    if (typeof TagKey !== "string" || TagKey.length < 1 || TagKey.length > 128)
      throw validation("TagKey must be 1-128 characters");
    if (typeof TagValue !== "string" || TagValue.length > 256) throw validation("TagValue must be 0-256 characters");
    if (TagKey.toLowerCase().startsWith("aws:")) throw tagError("Tag keys beginning with aws: are reserved");
    byKey.set(TagKey, TagValue);
  }
  if (byKey.size > MAX_TAGS) throw tagError(`A key can have at most ${MAX_TAGS} tags`);
  return [...byKey].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
}

export const tagResource: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: false });
  const tags = parseTags(input.optionalArray("Tags") ?? []);
  if (tags.length === 0)
    throw validation(
      "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
    );
  requireNotPendingDeletion(key);
  const merged = parseTags([...key.meta.tags, ...tags]);
  key.meta.tags = merged;
  await ctx.store.saveMeta(key);
  return undefined;
};

export const listResourceTags: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: false });
  const limit = input.optionalInteger("Limit", 1, 50) ?? 50;
  const marker = input.optionalString("Marker", { max: 1024 });
  const sorted = [...key.meta.tags].sort((a, b) => a.TagKey.localeCompare(b.TagKey));
  const result = page(sorted, (t) => t.TagKey, limit, marker);
  return {
    Tags: result.items,
    Truncated: result.truncated,
    ...(result.nextMarker ? { NextMarker: result.nextMarker } : {}),
  };
};
