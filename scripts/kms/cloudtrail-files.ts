import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { constants, gzip } from "node:zlib";
import { writeFileAtomic } from "./atomic-file.js";

/**
 * CloudTrail log files, as a trail delivers them to S3: gzip JSON `{"Records":[…]}` under
 * `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz`.
 * One file per flush interval (only when calls were made), so development can run Kakunin's
 * CloudTrail reconciler against the local KMS exactly as against a real trail.
 *
 * Hot path: `add` only pushes the already-built record onto an array. Serialising, compressing
 * (in libuv's thread pool) and writing happen once per interval, off the request path.
 */
const gzipAsync = promisify(gzip);
/** A file is cut early at this many records, so a busy KMS never holds an unbounded buffer. */
const MAX_RECORDS_PER_FILE = 20_000;
const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export class CloudTrailFiles {
  private records: Record<string, unknown>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly dir: string,
    private readonly region: string,
    private readonly account: string,
    private readonly flushMs: number,
  ) {}

  /** Creates the folder at once, as a trail's bucket exists before its first delivery. */
  static async open(dir: string, region: string, account: string, flushMs: number): Promise<CloudTrailFiles> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new CloudTrailFiles(dir, region, account, flushMs);
  }

  /** Takes ownership of `record` (its eventTime is rewritten to CloudTrail's whole-second form at flush). */
  add(record: Record<string, unknown>): void {
    this.records.push(record);
    if (this.records.length >= MAX_RECORDS_PER_FILE) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs).unref();
  }

  /** Starts writing the buffered records as one file; resolves when every file started so far is written. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.records.length > 0) {
      const batch = this.records;
      this.records = [];
      // Files are written one after another: their names (delivery minute) stay in order.
      this.writing = this.writing
        .then(() => this.write(batch))
        .catch((err) => console.error("local KMS: CloudTrail file write failed", err));
    }
    return this.writing;
  }

  private async write(batch: Record<string, unknown>[]): Promise<void> {
    for (const record of batch) {
      // CloudTrail's eventTime has whole seconds: 2022-03-07T22:36:44Z.
      const time = record.eventTime;
      if (typeof time === "string" && time.length > 20) record.eventTime = `${time.slice(0, 19)}Z`;
    }
    // Fastest level: the file is rewritten by nobody and read by tests and the reconciler; CPU
    // spent here is CPU the append benchmark's server does not get.
    const body = await gzipAsync(JSON.stringify({ Records: batch }), { level: constants.Z_BEST_SPEED });
    const now = new Date();
    const day = now.toISOString().slice(0, 10).split("-");
    const folder = join(this.dir, "AWSLogs", this.account, "CloudTrail", this.region, ...day);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(folder, logFileName(this.account, this.region, now)), body);
  }
}

/** `111122223333_CloudTrail_eu-west-1_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz` (the 16 characters only prevent overwrites). */
export function logFileName(account: string, region: string, deliveredAt: Date): string {
  const iso = deliveredAt.toISOString(); // 2015-08-01T02:10:00.000Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}Z`;
  const unique = [...randomBytes(16)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join("");
  return `${account}_CloudTrail_${region}_${stamp}_${unique}.json.gz`;
}
