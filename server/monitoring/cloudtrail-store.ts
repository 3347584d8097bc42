/**
 * Where CloudTrail files are read from: a folder or an S3 prefix. Both list the objects
 * delivered within a time window (by the delivery time in the name) and read one object.
 */
export interface CloudTrailObject {
  /** Path (folder) or S3 key: the object's identity across runs. */
  key: string;
  /** Delivery time, epoch ms: from the name when CloudTrail named it, else the file's modification time. */
  deliveredAt: number;
  /** "digest" when the name says so; the content decides in the end (cloudtrail-file.ts). */
  nameKind: "log" | "digest" | "unnamed";
}

/** Which accounts and regions to look in: the ones Kakunin's keys live in (from their ARNs). */
export interface CloudTrailScope {
  accounts: string[];
  regions: string[];
}

export interface CloudTrailStore {
  /** For messages: `dir:/path` or `s3://bucket/prefix`. */
  readonly description: string;
  /** Objects delivered in [fromMs, toMs], oldest first. */
  list(fromMs: number, toMs: number, scope: CloudTrailScope): Promise<CloudTrailObject[]>;
  read(object: CloudTrailObject): Promise<Uint8Array>;
}
