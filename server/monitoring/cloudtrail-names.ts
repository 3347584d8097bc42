/**
 * CloudTrail's object names. A log file is
 * `<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz` (the time is when it was
 * delivered; it holds records of any earlier time), a digest file
 * `<account>_CloudTrail-Digest_<region>_<trail>_<region>_<YYYYMMDDTHHmmssZ>[_backfill].json.gz`,
 * both under `AWSLogs/[<org id>/]<account>/CloudTrail[-Digest]/<region>/YYYY/MM/DD/`.
 */
export interface CloudTrailName {
  kind: "log" | "digest";
  account: string;
  region: string;
  /** Delivery time from the name, epoch ms. */
  deliveredAt: number;
}

const LOG_NAME = /^(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4})Z_[A-Za-z0-9]{16}\.json\.gz$/;
const DIGEST_NAME = /^(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_.+_(\d{8}T\d{6})Z(?:_backfill)?\.json\.gz$/;

/** Reads a base name; undefined when it is not a name CloudTrail gives. */
export function parseCloudTrailName(baseName: string): CloudTrailName | undefined {
  const log = LOG_NAME.exec(baseName);
  if (log) return { kind: "log", account: log[1]!, region: log[2]!, deliveredAt: stampToMs(`${log[3]!}00`) };
  const digest = DIGEST_NAME.exec(baseName);
  if (digest) return { kind: "digest", account: digest[1]!, region: digest[2]!, deliveredAt: stampToMs(digest[3]!) };
  return undefined;
}

/** `20150801T021000` → epoch ms (NaN when not a valid UTC time). */
function stampToMs(stamp: string): number {
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`;
  return Date.parse(iso);
}

/** `YYYY/MM/DD` of a UTC time: CloudTrail's day folder. */
export function dayFolder(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
}

/** Every day folder from `fromMs` to `toMs`, both included, in order. */
export function dayFolders(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  const start = Date.UTC(
    new Date(fromMs).getUTCFullYear(),
    new Date(fromMs).getUTCMonth(),
    new Date(fromMs).getUTCDate(),
  );
  for (let t = start; t <= toMs; t += 86_400_000) days.push(dayFolder(t));
  return days;
}
