import { promisify } from "node:util";
import { gunzip } from "node:zlib";
import { isObject, parseKmsRecord, type KmsEvent } from "./cloudtrail-event.js";
import { CloudTrailFormatError } from "./errors.js";

/**
 * One object a trail delivered: a log file (`{"Records":[…]}`) or a digest file (log file
 * validation: hashes of the hour's log files, signed by CloudTrail). Both are gzip JSON.
 */
export type CloudTrailFile = LogFile | DigestFile;

export interface LogFile {
  kind: "log";
  /** KMS records only; other services' records are dropped here. */
  events: KmsEvent[];
  /** Records of any service in the file. */
  recordCount: number;
  /** KMS records that could not be read (the rest of the file still counts). */
  problems: CloudTrailFormatError[];
}

/** What monitoring needs of a digest file: that it is one, and which log files it vouches for. */
export interface DigestFile {
  kind: "digest";
  digestStartTime: string;
  digestEndTime: string;
  /** `s3Object` of every log file the digest lists. */
  logFiles: string[];
}

/** Largest decompressed file accepted: a CloudTrail log file is far smaller; a gzip bomb is not. */
const MAX_JSON_BYTES = 256 * 1024 * 1024;

/**
 * Decodes one delivered object. Digest files are recognised by their content (`digestStartTime`,
 * `digestEndTime`, `logFiles`), whatever their name; anything that is neither a log nor a digest
 * file is a CloudTrailFormatError naming `where` and the field.
 */
export async function readCloudTrailFile(bytes: Uint8Array, where: string): Promise<CloudTrailFile> {
  return parseCloudTrailJson(await decodeJson(bytes, where), where);
}

/** The same, for a file already decompressed and parsed. */
export function parseCloudTrailJson(json: unknown, where: string): CloudTrailFile {
  if (!isObject(json)) throw new CloudTrailFormatError(where, "not a JSON object");
  if (Array.isArray(json.Records)) {
    const events: KmsEvent[] = [];
    const problems: CloudTrailFormatError[] = [];
    json.Records.forEach((record, i) => {
      try {
        const event = parseKmsRecord(record, `${where}: Records[${i}]`);
        if (event) events.push(event);
      } catch (err) {
        if (!(err instanceof CloudTrailFormatError)) throw err;
        problems.push(err);
      }
    });
    return { kind: "log", events, recordCount: json.Records.length, problems };
  }
  if ("digestStartTime" in json || "digestEndTime" in json || "logFiles" in json) {
    const start = json.digestStartTime;
    const end = json.digestEndTime;
    if (typeof start !== "string")
      throw new CloudTrailFormatError(`${where}: digestStartTime`, "missing or not a string");
    if (typeof end !== "string") throw new CloudTrailFormatError(`${where}: digestEndTime`, "missing or not a string");
    if (!Array.isArray(json.logFiles)) throw new CloudTrailFormatError(`${where}: logFiles`, "missing or not an array");
    const logFiles = json.logFiles.map((entry, i) => {
      if (!isObject(entry) || typeof entry.s3Object !== "string")
        throw new CloudTrailFormatError(`${where}: logFiles[${i}].s3Object`, "missing or not a string");
      return entry.s3Object;
    });
    return { kind: "digest", digestStartTime: start, digestEndTime: end, logFiles };
  }
  throw new CloudTrailFormatError(`${where}: Records`, "missing: neither a CloudTrail log file nor a digest file");
}

const gunzipAsync = promisify(gunzip);

/** Decompresses in libuv's thread pool: the server's event loop is not held by a large file. */
async function decodeJson(bytes: Uint8Array, where: string): Promise<unknown> {
  let text: string;
  try {
    const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
    const raw = gzipped ? await gunzipAsync(bytes, { maxOutputLength: MAX_JSON_BYTES }) : bytes;
    text = new TextDecoder("utf-8", { fatal: true }).decode(raw);
  } catch (err) {
    throw new CloudTrailFormatError(where, `not gzip-compressed UTF-8 JSON (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CloudTrailFormatError(where, `not JSON (${(err as Error).message})`);
  }
}
