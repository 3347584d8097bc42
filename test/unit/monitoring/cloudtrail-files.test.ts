/** CloudTrail files: the sample trail in test/fixtures/cloudtrail read through the folder store, and bad input. */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { DirCloudTrailStore } from "../../../server/monitoring/cloudtrail-dir-store.js";
import { parseKmsRecord } from "../../../server/monitoring/cloudtrail-event.js";
import { readCloudTrailFile } from "../../../server/monitoring/cloudtrail-file.js";
import { parseCloudTrailLocation } from "../../../server/monitoring/cloudtrail-location.js";
import { dayFolders, parseCloudTrailName } from "../../../server/monitoring/cloudtrail-names.js";
import { readCloudTrailWindow } from "../../../server/monitoring/cloudtrail-reader.js";
import { CloudTrailFormatError, MonitoringConfigError } from "../../../server/monitoring/errors.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/cloudtrail", import.meta.url));
const SCOPE = { accounts: ["111122223333"], regions: ["eu-west-1"] };
const KEY_A = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_B = "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321";
const DAY = Date.parse("2024-05-14T00:00:00Z");

describe("the sample trail (folder store)", () => {
  it("reads both log files' KMS records, skips other services, and recognises the digest file", async () => {
    const store = new DirCloudTrailStore(FIXTURES);
    const read = await readCloudTrailWindow(store, DAY, DAY + 86_400_000 - 1, { scope: SCOPE });
    expect(read.problems).toEqual([]);
    expect(read.logFiles.map((f) => f.slice(f.lastIndexOf("/") + 1))).toEqual([
      "111122223333_CloudTrail_eu-west-1_20240514T1005Z_Mu0KsOhtH1ar15ZZ.json.gz",
      "111122223333_CloudTrail_eu-west-1_20240514T1015Z_q3Vb8NxT2cLm5RwA.json.gz",
    ]);
    expect(read.events.map((e) => e.eventName)).toEqual([
      "Sign",
      "GetPublicKey",
      "Sign",
      "Sign",
      "DisableKey",
      "Sign",
      "Sign",
    ]);
    expect(read.digests).toHaveLength(1);
    expect(read.digests[0]!.digest).toMatchObject({
      kind: "digest",
      digestStartTime: "2024-05-14T10:00:00Z",
      digestEndTime: "2024-05-14T11:00:00Z",
    });
    // The digest vouches for exactly the two log files read.
    expect(read.digests[0]!.digest.logFiles.map((k) => join(FIXTURES, k)).sort()).toEqual([...read.logFiles].sort());
  });

  it("resolves every Sign to its key ARN: from an ARN, a bare key id, an alias (via resources[])", async () => {
    const read = await readCloudTrailWindow(new DirCloudTrailStore(FIXTURES), DAY, DAY + 86_400_000 - 1, {
      scope: SCOPE,
    });
    const signs = read.events.filter((e) => e.eventName === "Sign");
    expect(signs.map((e) => [e.keyRef, e.keyArn])).toEqual([
      [KEY_A, KEY_A],
      ["0987dcba-09fe-87dc-65ba-ab0987654321", KEY_B],
      ["alias/payments-bot", KEY_B],
      [KEY_A, KEY_A],
      [KEY_B, KEY_B],
    ]);
    const [own, alice, , disabled, denied] = signs;
    expect(own).toMatchObject({
      eventTime: Date.parse("2024-05-14T10:01:07Z"),
      region: "eu-west-1",
      account: "111122223333",
      errorCode: undefined,
      sourceIpAddress: "198.51.100.7",
      caller: {
        type: "AssumedRole",
        arn: "arn:aws:sts::111122223333:assumed-role/kakunin-service/kakunin-server",
        accessKeyId: "ASIAEXAMPLESESSION01",
      },
    });
    expect(own!.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(alice!.caller).toMatchObject({ type: "IAMUser", arn: "arn:aws:iam::111122223333:user/Alice" });
    expect(disabled).toMatchObject({ errorCode: "DisabledException", errorMessage: `${KEY_A} is disabled.` });
    expect(denied).toMatchObject({
      errorCode: "AccessDenied",
      caller: { arn: "arn:aws:iam::111122223333:user/Mallory" },
    });
  });

  it("does not enter day folders outside the window, and filters by the delivery time in the name", async () => {
    const store = new DirCloudTrailStore(FIXTURES);
    expect(await store.list(DAY + 86_400_000, DAY + 2 * 86_400_000, SCOPE)).toEqual([]);
    const between = await store.list(Date.parse("2024-05-14T10:10:00Z"), Date.parse("2024-05-14T10:20:00Z"), SCOPE);
    expect(between.map((o) => o.nameKind)).toEqual(["log"]);
    expect(between[0]!.key).toContain("20240514T1015Z");
    const digestOnly = await store.list(Date.parse("2024-05-14T10:59:00Z"), Date.parse("2024-05-14T11:01:00Z"), SCOPE);
    expect(digestOnly.map((o) => o.nameKind)).toEqual(["digest"]);
  });

  it("skips files already read", async () => {
    const store = new DirCloudTrailStore(FIXTURES);
    const first = await readCloudTrailWindow(store, DAY, DAY + 86_400_000 - 1, { scope: SCOPE });
    const seen = new Set([...first.logFiles, ...first.digests.map((d) => d.key)]);
    const again = await readCloudTrailWindow(store, DAY, DAY + 86_400_000 - 1, {
      scope: SCOPE,
      alreadyRead: (k) => seen.has(k),
    });
    expect(again).toEqual({ events: [], logFiles: [], digests: [], problems: [] });
  });
});

describe("bad input", () => {
  const sign = {
    eventVersion: "1.08",
    eventTime: "2024-05-14T10:01:07Z",
    eventSource: "kms.amazonaws.com",
    eventName: "Sign",
    awsRegion: "eu-west-1",
    requestID: "f7d5c1a2-0000-4000-8000-000000000001",
    eventID: "f7d5c1a2-0000-4000-8000-000000000002",
    recipientAccountId: "111122223333",
    requestParameters: { keyId: "alias/x" },
  };

  it("a KMS record without a required field names the file, record and field; the file's other records still count", async () => {
    const bytes = gzipSync(
      JSON.stringify({ Records: [sign, { ...sign, eventTime: "yesterday" }, { ...sign, eventID: 7 }, "nope"] }),
    );
    const file = await readCloudTrailFile(bytes, "f.json.gz");
    if (file.kind !== "log") throw new Error("expected a log file");
    expect(file.events).toHaveLength(1);
    expect(file.events[0]!.keyArn).toBeUndefined(); // an alias with no resources[] is not guessed
    expect(file.problems.map((p) => p.message)).toEqual([
      "f.json.gz: Records[1].eventTime: not an ISO 8601 time",
      "f.json.gz: Records[2].eventID: missing or not a string",
      "f.json.gz: Records[3]: a record is not a JSON object",
    ]);
    expect(file.problems.every((p) => p.code === "ERR_CLOUDTRAIL_FORMAT")).toBe(true);
  });

  it("a file that is not gzip JSON, or neither a log nor a digest file, is a CloudTrailFormatError naming it", async () => {
    await expect(readCloudTrailFile(Buffer.from([0x1f, 0x8b, 1, 2, 3]), "broken.json.gz")).rejects.toThrow(
      /^broken.json.gz: not gzip-compressed UTF-8 JSON/,
    );
    await expect(readCloudTrailFile(gzipSync("{"), "half.json.gz")).rejects.toThrow(/^half.json.gz: not JSON/);
    await expect(readCloudTrailFile(gzipSync("{}"), "empty.json.gz")).rejects.toThrow(
      "empty.json.gz: Records: missing: neither a CloudTrail log file nor a digest file",
    );
    await expect(
      readCloudTrailFile(
        gzipSync(JSON.stringify({ digestStartTime: "x", digestEndTime: "y", logFiles: [{}] })),
        "d.json.gz",
      ),
    ).rejects.toThrow("d.json.gz: logFiles[0].s3Object: missing or not a string");
    await expect(readCloudTrailFile(gzipSync("[]"), "a.json.gz")).rejects.toBeInstanceOf(CloudTrailFormatError);
  });

  it("a folder with a broken file reports it and still reads the others", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kakunin-ct-"));
    const day = join(dir, "AWSLogs", "111122223333", "CloudTrail", "eu-west-1", "2024", "05", "14");
    await mkdir(day, { recursive: true });
    await writeFile(
      join(day, "111122223333_CloudTrail_eu-west-1_20240514T1005Z_AAAAAAAAAAAAAAAA.json.gz"),
      gzipSync(JSON.stringify({ Records: [sign] })),
    );
    await writeFile(join(day, "111122223333_CloudTrail_eu-west-1_20240514T1010Z_BBBBBBBBBBBBBBBB.json.gz"), "not gzip");
    const read = await readCloudTrailWindow(new DirCloudTrailStore(dir), DAY, DAY + 86_400_000 - 1, { scope: SCOPE });
    expect(read.events).toHaveLength(1);
    expect(read.problems).toHaveLength(1);
    expect(read.problems[0]!.where).toContain("20240514T1010Z_BBBBBBBBBBBBBBBB.json.gz");
  });

  it("a folder that does not exist is CloudTrailUnavailableError", async () => {
    await expect(new DirCloudTrailStore("/nonexistent/kakunin-ct").list(0, 1, SCOPE)).rejects.toMatchObject({
      code: "ERR_CLOUDTRAIL_UNAVAILABLE",
    });
  });

  it("other services' records are dropped, not errors", () => {
    expect(parseKmsRecord({ eventSource: "s3.amazonaws.com" }, "x")).toBeUndefined();
  });
});

describe("names and locations", () => {
  it("reads CloudTrail's log and digest file names", () => {
    expect(parseCloudTrailName("111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz")).toEqual({
      kind: "log",
      account: "111122223333",
      region: "us-east-2",
      deliveredAt: Date.parse("2015-08-01T02:10:00Z"),
    });
    expect(
      parseCloudTrailName("111122223333_CloudTrail-Digest_us-east-2_my-trail_us-east-2_20150817T150131Z.json.gz"),
    ).toMatchObject({
      kind: "digest",
      deliveredAt: Date.parse("2015-08-17T15:01:31Z"),
    });
    expect(
      parseCloudTrailName(
        "111122223333_CloudTrail-Digest_us-east-2_my-trail_us-east-2_20150817T150131Z_backfill.json.gz",
      )?.kind,
    ).toBe("digest");
    expect(parseCloudTrailName("notes.json.gz")).toBeUndefined();
  });

  it("lists the UTC day folders of a window", () => {
    expect(dayFolders(Date.parse("2024-02-28T23:00:00Z"), Date.parse("2024-03-01T00:30:00Z"))).toEqual([
      "2024/02/28",
      "2024/02/29",
      "2024/03/01",
    ]);
  });

  it("parses KAKUNIN_CLOUDTRAIL", () => {
    expect(parseCloudTrailLocation("dir:/var/lib/trail")).toEqual({ kind: "dir", path: "/var/lib/trail" });
    expect(parseCloudTrailLocation("s3://my-trail-bucket")).toEqual({
      kind: "s3",
      bucket: "my-trail-bucket",
      prefix: "",
    });
    expect(parseCloudTrailLocation("s3://my-trail-bucket/org/trails")).toEqual({
      kind: "s3",
      bucket: "my-trail-bucket",
      prefix: "org/trails/",
    });
    for (const bad of ["", "dir:", "/var/lib/trail", "s3://", "s3://UPPER/x", "http://bucket/x"]) {
      expect(() => parseCloudTrailLocation(bad)).toThrow(MonitoringConfigError);
    }
    expect(() => parseCloudTrailLocation("ftp://x")).toThrow(
      "KAKUNIN_CLOUDTRAIL: expected dir:<folder> or s3://<bucket>/<prefix>",
    );
  });
});
