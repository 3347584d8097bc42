import { MonitoringConfigError } from "./errors.js";

/** Where a trail's files are: a folder (a copy of the bucket, or the local KMS's output) or an S3 prefix. */
export type CloudTrailLocation = { kind: "dir"; path: string } | { kind: "s3"; bucket: string; prefix: string };

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `KAKUNIN_CLOUDTRAIL`: `dir:/path/to/folder` (searched recursively) or
 * `s3://bucket[/prefix]` (the trail's S3 prefix, the part before `AWSLogs/`, or any deeper
 * prefix ending in `AWSLogs/[<org id>/]`). Anything else is MonitoringConfigError.
 */
export function parseCloudTrailLocation(value: string, setting = "KAKUNIN_CLOUDTRAIL"): CloudTrailLocation {
  if (value.startsWith("dir:")) {
    const path = value.slice(4);
    if (path === "" || path.includes("\0"))
      throw new MonitoringConfigError(setting, "dir: needs a folder path, e.g. dir:/var/lib/cloudtrail");
    return { kind: "dir", path };
  }
  if (value.startsWith("s3://")) {
    const rest = value.slice(5);
    const slash = rest.indexOf("/");
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    let prefix = slash === -1 ? "" : rest.slice(slash + 1);
    if (!BUCKET.test(bucket))
      throw new MonitoringConfigError(setting, `${JSON.stringify(bucket)} is not an S3 bucket name`);
    if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
    return { kind: "s3", bucket, prefix };
  }
  throw new MonitoringConfigError(setting, "expected dir:<folder> or s3://<bucket>/<prefix>");
}
