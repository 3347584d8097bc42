import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { dayFolder, parseCloudTrailName } from "./cloudtrail-names.js";
import type { CloudTrailObject, CloudTrailScope, CloudTrailStore } from "./cloudtrail-store.js";
import { withDeadline } from "./deadline.js";
import { CloudTrailUnavailableError } from "./errors.js";

/** Bound on one S3 call (list page or object read), retries included (KAKUNIN_CLOUDTRAIL_TIMEOUT_MS). */
export const DEFAULT_S3_CALL_TIMEOUT_MS = 10_000;
/** A CloudTrail log file is a few MB at most; larger objects are refused unread. */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;

/**
 * CloudTrail files under an S3 prefix (ListObjectsV2 + GetObject). For each account and region of
 * the scope it lists `<prefix>AWSLogs/<account>/CloudTrail/<region>/` starting after the first
 * day folder of the window (keys sort by date there), and stops past the last one: a run reads
 * the window, not the trail's whole history. Digest files live under `CloudTrail-Digest/` and are
 * not listed. Every call has a deadline.
 */
export class S3CloudTrailStore implements CloudTrailStore {
  readonly description: string;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly callTimeoutMs = DEFAULT_S3_CALL_TIMEOUT_MS,
  ) {
    this.description = `s3://${bucket}/${prefix}`;
  }

  /** The folders to list: `…/CloudTrail/<region>/` for each account and region. */
  regionPrefixes(scope: CloudTrailScope): string[] {
    if (/\/CloudTrail\/[a-z0-9-]+\/$/.test(this.prefix)) return [this.prefix];
    const logs = /(^|\/)AWSLogs\/(o-[a-z0-9]+\/)?$/.test(this.prefix) ? this.prefix : `${this.prefix}AWSLogs/`;
    return scope.accounts.flatMap((account) =>
      scope.regions.map((region) => `${logs}${account}/CloudTrail/${region}/`),
    );
  }

  async list(fromMs: number, toMs: number, scope: CloudTrailScope): Promise<CloudTrailObject[]> {
    const firstDay = dayFolder(fromMs);
    const lastDay = dayFolder(toMs);
    const found: CloudTrailObject[] = [];
    for (const regionPrefix of this.regionPrefixes(scope)) {
      let token: string | undefined;
      let done = false;
      do {
        const page = await this.call(`S3 ListObjectsV2 ${this.bucket}/${regionPrefix}`, (abortSignal) =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: regionPrefix,
              ...(token ? { ContinuationToken: token } : { StartAfter: `${regionPrefix}${firstDay}` }),
            }),
            { abortSignal },
          ),
        );
        for (const object of page.Contents ?? []) {
          if (!object.Key) continue;
          const day = object.Key.slice(regionPrefix.length, regionPrefix.length + 10);
          if (day > lastDay) {
            done = true;
            break;
          }
          const name = object.Key.slice(object.Key.lastIndexOf("/") + 1);
          const named = parseCloudTrailName(name);
          const deliveredAt = named?.deliveredAt ?? object.LastModified?.getTime() ?? NaN;
          if (deliveredAt >= fromMs && deliveredAt <= toMs)
            found.push({ key: object.Key, deliveredAt, nameKind: named?.kind ?? "unnamed" });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token && !done);
    }
    return found.sort((a, b) => a.deliveredAt - b.deliveredAt || (a.key < b.key ? -1 : 1));
  }

  async read(object: CloudTrailObject): Promise<Uint8Array> {
    return this.call(`S3 GetObject ${this.bucket}/${object.key}`, async (abortSignal) => {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: object.key }), {
        abortSignal,
      });
      if (answer.ContentLength !== undefined && answer.ContentLength > MAX_OBJECT_BYTES) {
        throw new CloudTrailUnavailableError(
          `${this.bucket}/${object.key} is ${answer.ContentLength} bytes, more than a CloudTrail file (${MAX_OBJECT_BYTES})`,
        );
      }
      if (!answer.Body) throw new CloudTrailUnavailableError(`${this.bucket}/${object.key}: S3 returned no body`);
      return answer.Body.transformToByteArray();
    });
  }

  private async call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withDeadline(what, this.callTimeoutMs, fn);
    } catch (err) {
      if (err instanceof CloudTrailUnavailableError) throw err;
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : "";
      throw new CloudTrailUnavailableError(
        `${what} failed: ${e.name ?? "Error"}${status}: ${e.message ?? String(err)}`,
        err,
      );
    }
  }
}
