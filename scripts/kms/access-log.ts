import { randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { CloudTrailFiles } from "./cloudtrail-files.js";

/**
 * One CloudTrail-shaped JSON line per call. Only whitelisted, non-secret parameters are
 * recorded: never Message, Signature or Policy bytes.
 */
const LOGGED_PARAMETERS: [name: string, logName: string][] = Object.entries({
  KeyId: "keyId",
  TargetKeyId: "targetKeyId",
  AliasName: "aliasName",
  SigningAlgorithm: "signingAlgorithm",
  MessageType: "messageType",
  KeySpec: "keySpec",
  CustomerMasterKeySpec: "customerMasterKeySpec",
  KeyUsage: "keyUsage",
  Origin: "origin",
  Description: "description",
  PendingWindowInDays: "pendingWindowInDays",
  PolicyName: "policyName",
  Limit: "limit",
  Marker: "marker",
  Tags: "tags",
  DryRun: "dryRun",
});

export function loggedParameters(
  eventName: string,
  body: Record<string, unknown> | undefined,
): Record<string, unknown> | null {
  if (!body) return null;
  const out: Record<string, unknown> = {};
  let any = false;
  // CloudTrail shows the effective message type, including the RAW default.
  if (eventName === "Sign" || eventName === "Verify") {
    out.messageType = "RAW";
    any = true;
  }
  for (const [name, logName] of LOGGED_PARAMETERS) {
    const value = body[name];
    if (value === undefined) continue;
    // Scalars only (Tags excepted): a client could smuggle arbitrary payloads into unexpected types.
    if (name === "Tags" ? Array.isArray(value) : isScalar(value)) {
      out[logName] = value;
      any = true;
    }
  }
  return any ? out : null;
}

const isScalar = (v: unknown) => typeof v === "string" || typeof v === "number" || typeof v === "boolean";

export interface AccessLogEntry {
  eventName: string;
  requestId: string;
  accessKeyId: string | undefined;
  sourceIp: string | undefined;
  userAgent: string | undefined;
  requestParameters: Record<string, unknown> | null;
  resources: string[];
  errorCode?: string;
  errorMessage?: string;
}

export class AccessLog {
  private constructor(
    private readonly stream: WriteStream,
    private readonly region: string,
    private readonly account: string,
    private readonly cloudTrail: CloudTrailFiles | undefined,
  ) {}

  /** `cloudTrail`: also hand every record to these CloudTrail log files. */
  static async open(path: string, region: string, account: string, cloudTrail?: CloudTrailFiles): Promise<AccessLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const stream = createWriteStream(path, { flags: "a", mode: 0o600 });
    await new Promise<void>((resolve, reject) => stream.once("open", () => resolve()).once("error", reject));
    stream.on("error", (err) => console.error("local KMS: access log write failed", err));
    return new AccessLog(stream, region, account, cloudTrail);
  }

  record(entry: AccessLogEntry): void {
    const line = {
      eventVersion: "1.08",
      userIdentity: { type: "IAMUser", accountId: this.account, accessKeyId: entry.accessKeyId ?? null },
      eventTime: this.eventTime(),
      eventSource: "kms.amazonaws.com",
      eventName: entry.eventName,
      awsRegion: this.region,
      sourceIPAddress: entry.sourceIp ?? null,
      userAgent: entry.userAgent ?? null,
      ...(entry.errorCode ? { errorCode: entry.errorCode, errorMessage: entry.errorMessage ?? "" } : {}),
      requestParameters: entry.requestParameters,
      responseElements: null,
      requestID: entry.requestId,
      eventID: randomUUID(),
      readOnly: READ_ONLY.has(entry.eventName),
      resources: entry.resources.map((ARN) => ({ accountId: this.account, type: "AWS::KMS::Key", ARN })),
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: this.account,
      eventCategory: "Management",
    };
    // Lines of one event-loop turn leave in one write (a busy KMS answers many calls per turn),
    // joined into one string: one chunk for the stream, not one per line.
    if (this.pending === "") setImmediate(this.flush);
    this.pending += JSON.stringify(line) + "\n";
    this.cloudTrail?.add(line);
  }

  /** Lines recorded in this event loop turn, not yet handed to the stream. */
  private pending = "";

  private readonly flush = () => {
    if (this.pending === "") return;
    this.stream.write(this.pending);
    this.pending = "";
  };

  /** ISO time of the current millisecond; calls answered in the same millisecond share the string. */
  private eventTime(): string {
    const now = Date.now();
    if (now !== this.lastTimeMs) {
      this.lastTimeMs = now;
      this.lastTimeIso = new Date(now).toISOString();
    }
    return this.lastTimeIso;
  }

  private lastTimeMs = NaN;
  private lastTimeIso = "";

  /** Flushes buffered lines to disk and closes the file. */
  async close(): Promise<void> {
    this.flush();
    await Promise.all([new Promise<void>((resolve) => this.stream.end(() => resolve())), this.cloudTrail?.flush()]);
  }
}

const READ_ONLY = new Set([
  "DescribeKey",
  "GetPublicKey",
  "ListKeys",
  "ListAliases",
  "ListResourceTags",
  "GetKeyPolicy",
  "Sign",
  "Verify",
]);
