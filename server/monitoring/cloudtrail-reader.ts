import type { KmsEvent } from "./cloudtrail-event.js";
import { readCloudTrailFile, type DigestFile } from "./cloudtrail-file.js";
import type { CloudTrailObject, CloudTrailScope, CloudTrailStore } from "./cloudtrail-store.js";
import { CloudTrailFormatError } from "./errors.js";

/** What one pass over a window of delivered files found. */
export interface CloudTrailReadResult {
  /** KMS events of the log files read, in file order. */
  events: KmsEvent[];
  /** Keys of the log files read. */
  logFiles: string[];
  /** Digest files met (recognised by content and skipped for events). */
  digests: { key: string; digest: DigestFile }[];
  /** Files or records that are not what CloudTrail writes; the other files still count. */
  problems: CloudTrailFormatError[];
}

export interface ReadWindowOptions {
  scope: CloudTrailScope;
  /** Objects already read in an earlier pass (their keys): not read again. */
  alreadyRead?: (key: string) => boolean;
  /** Objects read at once (S3 latency hides behind a few parallel reads). */
  concurrency?: number;
}

/**
 * Reads every CloudTrail object delivered in [fromMs, toMs]. A malformed file is reported in
 * `problems` and does not stop the pass; a store that cannot be read (folder gone, S3 down or
 * past its deadline) rejects with CloudTrailUnavailableError, and nothing of the pass counts.
 */
export async function readCloudTrailWindow(
  store: CloudTrailStore,
  fromMs: number,
  toMs: number,
  options: ReadWindowOptions,
): Promise<CloudTrailReadResult> {
  const objects = (await store.list(fromMs, toMs, options.scope)).filter((o) => !options.alreadyRead?.(o.key));
  const files = new Array<Awaited<ReturnType<typeof readOne>>>(objects.length);
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const i = next++;
      files[i] = await readOne(store, objects[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, objects.length)) }, worker));

  const result: CloudTrailReadResult = { events: [], logFiles: [], digests: [], problems: [] };
  files.forEach((file, i) => {
    const key = objects[i]!.key;
    if (file instanceof CloudTrailFormatError) result.problems.push(file);
    else if (file.kind === "digest") result.digests.push({ key, digest: file });
    else {
      result.logFiles.push(key);
      result.events.push(...file.events);
      result.problems.push(...file.problems);
    }
  });
  return result;
}

async function readOne(store: CloudTrailStore, object: CloudTrailObject) {
  const bytes = await store.read(object);
  try {
    return await readCloudTrailFile(bytes, object.key);
  } catch (err) {
    if (err instanceof CloudTrailFormatError) return err;
    throw err;
  }
}
