import { createAlias, listAliases, updateAlias } from "./aliases.js";
import type { Operation } from "./context.js";
import {
  cancelKeyDeletion,
  createKey,
  describeKey,
  disableKey,
  enableKey,
  listKeys,
  scheduleKeyDeletion,
} from "./keys.js";
import { getKeyPolicy, putKeyPolicy } from "./policy.js";
import { getPublicKey, sign, verify } from "./signing.js";
import { listResourceTags, tagResource } from "./tags.js";

/** `X-Amz-Target: TrentService.<name>` -> handler. */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  GetPublicKey: getPublicKey,
  Sign: sign,
  Verify: verify,
  DisableKey: disableKey,
  EnableKey: enableKey,
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  ListKeys: listKeys,
  TagResource: tagResource,
  ListResourceTags: listResourceTags,
  CreateAlias: createAlias,
  ListAliases: listAliases,
  UpdateAlias: updateAlias,
  GetKeyPolicy: getKeyPolicy,
  PutKeyPolicy: putKeyPolicy,
};
