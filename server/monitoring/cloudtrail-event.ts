import { CloudTrailFormatError } from "./errors.js";

/**
 * One KMS call as CloudTrail recorded it, reduced to what monitoring reads. CloudTrail records
 * who called which key and when, never what was signed: matching the `requestId` to the entry
 * Kakunin logged for it is what answers "to sign what".
 */
export interface KmsEvent {
  /** CloudTrail's own id of the record (`eventID`). */
  eventId: string;
  /** The KMS request id (`requestID`), the same value KMS returned in `x-amzn-RequestId`. */
  requestId: string;
  /** `Sign`, `GetPublicKey`, `DisableKey`, … */
  eventName: string;
  /** `eventTime`, epoch milliseconds. */
  eventTime: number;
  region: string;
  /** The account that owns the key (`recipientAccountId`). */
  account: string;
  /** The key's ARN: from `resources[]`, else from `requestParameters.keyId` when that is an ARN or key id. Undefined for an alias CloudTrail did not resolve. */
  keyArn: string | undefined;
  /** `requestParameters.keyId` as the caller gave it (key id, key ARN, alias name or alias ARN). */
  keyRef: string | undefined;
  /** Set when KMS refused the call (`DisabledException`, `KMSInvalidStateException`, `AccessDenied`, …): no signature was made. */
  errorCode: string | undefined;
  errorMessage: string | undefined;
  caller: CallerIdentity;
  sourceIpAddress: string | undefined;
  userAgent: string | undefined;
}

/** The `userIdentity` fields that name a caller. */
export interface CallerIdentity {
  type: string | undefined;
  arn: string | undefined;
  principalId: string | undefined;
  accessKeyId: string | undefined;
  accountId: string | undefined;
  /** For calls an AWS service made on the caller's behalf. */
  invokedBy: string | undefined;
}

const KMS_SOURCE = "kms.amazonaws.com";
const KEY_ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/**
 * Reads one element of a log file's `Records[]`. Returns undefined for events of other services
 * (a trail records every service); throws CloudTrailFormatError for a KMS record without the
 * fields every KMS record has.
 */
export function parseKmsRecord(record: unknown, where: string): KmsEvent | undefined {
  if (!isObject(record)) throw new CloudTrailFormatError(where, "a record is not a JSON object");
  if (record.eventSource !== KMS_SOURCE) return undefined;
  const eventName = requiredString(record, "eventName", where);
  const eventTime = Date.parse(requiredString(record, "eventTime", where));
  if (!Number.isFinite(eventTime)) throw new CloudTrailFormatError(`${where}.eventTime`, "not an ISO 8601 time");
  const region = requiredString(record, "awsRegion", where);
  const identity = isObject(record.userIdentity) ? record.userIdentity : {};
  const account = optionalString(record, "recipientAccountId") ?? optionalString(identity, "accountId");
  if (account === undefined)
    throw new CloudTrailFormatError(`${where}.recipientAccountId`, "missing (and no userIdentity.accountId)");
  const parameters = isObject(record.requestParameters) ? record.requestParameters : {};
  const keyRef = optionalString(parameters, "keyId");
  return {
    eventId: requiredString(record, "eventID", where),
    // CloudTrail omits requestID only for events no API request caused (e.g. a scheduled deletion).
    requestId: optionalString(record, "requestID") ?? "",
    eventName,
    eventTime,
    region,
    account,
    keyArn: keyArnOf(record, keyRef, region, account),
    keyRef,
    errorCode: optionalString(record, "errorCode"),
    errorMessage: optionalString(record, "errorMessage"),
    caller: {
      type: optionalString(identity, "type"),
      arn: optionalString(identity, "arn"),
      principalId: optionalString(identity, "principalId"),
      accessKeyId: optionalString(identity, "accessKeyId"),
      accountId: optionalString(identity, "accountId"),
      invokedBy: optionalString(identity, "invokedBy"),
    },
    sourceIpAddress: optionalString(record, "sourceIPAddress"),
    userAgent: optionalString(record, "userAgent"),
  };
}

/** The key ARN: CloudTrail's resolved `resources[]` first (it resolves aliases), else the key reference itself. */
function keyArnOf(
  record: Record<string, unknown>,
  keyRef: string | undefined,
  region: string,
  account: string,
): string | undefined {
  if (Array.isArray(record.resources)) {
    for (const resource of record.resources) {
      if (isObject(resource) && typeof resource.ARN === "string" && KEY_ARN.test(resource.ARN)) return resource.ARN;
    }
  }
  if (keyRef === undefined) return undefined;
  if (KEY_ARN.test(keyRef)) return keyRef;
  if (KEY_ID.test(keyRef)) return `arn:${partitionOf(region)}:kms:${region}:${account}:key/${keyRef}`;
  return undefined;
}

/** The ARN partition a region belongs to. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requiredString(obj: Record<string, unknown>, field: string, where: string): string {
  const value = obj[field];
  if (typeof value !== "string" || value === "")
    throw new CloudTrailFormatError(`${where}.${field}`, "missing or not a string");
  return value;
}

function optionalString(obj: Record<string, unknown>, field: string): string | undefined {
  const value = obj[field];
  return typeof value === "string" && value !== "" ? value : undefined;
}
