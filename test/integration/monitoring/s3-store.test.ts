/**
 * The S3 reader through @aws-sdk/client-s3 against a local S3-compatible server (s3rver): the
 * sample trail uploaded under a prefix, listed by day folder and read; deadlines and S3 errors.
 */
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCloudTrailWindow } from "../../../server/monitoring/cloudtrail-reader.js";
import { S3CloudTrailStore } from "../../../server/monitoring/cloudtrail-s3-store.js";
import { StaticKeyOwners } from "../../../server/monitoring/key-owners.js";
import { openCloudTrailStore } from "../../../server/monitoring/monitoring-config.js";
import { Reconciler } from "../../../server/monitoring/reconciler.js";
import { InMemoryRecordedSignatures } from "../../../server/monitoring/recorded-signatures.js";
import { startLocalS3, type LocalS3 } from "../../helpers/s3.js";

const FIXTURES = fileURLToPath(new URL("../../fixtures/cloudtrail", import.meta.url));
const SCOPE = { accounts: ["111122223333"], regions: ["eu-west-1"] };
const DAY = Date.parse("2024-05-14T00:00:00Z");
const REGION_PREFIX = "org/AWSLogs/111122223333/CloudTrail/eu-west-1/";
let s3: LocalS3;
let client: S3Client;

beforeAll(async () => {
  s3 = await startLocalS3(["kakunin-trail"]);
  client = s3.client();
  for (const entry of await readdir(FIXTURES, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".json.gz")) continue;
    const path = join(entry.parentPath, entry.name);
    await client.send(
      new PutObjectCommand({
        Bucket: "kakunin-trail",
        Key: `org/${relative(FIXTURES, path)}`,
        Body: await readFile(path),
      }),
    );
  }
  // The days around it, which a window on 2024-05-14 must not read.
  const other = (day: string, stamp: string) => ({
    Bucket: "kakunin-trail",
    Key: `${REGION_PREFIX}${day}/111122223333_CloudTrail_eu-west-1_${stamp}_ZZZZZZZZZZZZZZZZ.json.gz`,
    Body: gzipSync(JSON.stringify({ Records: [] })),
  });
  await client.send(new PutObjectCommand(other("2024/05/13", "20240513T2355Z")));
  await client.send(new PutObjectCommand(other("2024/05/15", "20240515T0005Z")));
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});

describe("S3 CloudTrail store", () => {
  it("composes the region folders from the prefix and the scope", () => {
    const store = (prefix: string) => new S3CloudTrailStore(client, "b", prefix);
    expect(store("").regionPrefixes(SCOPE)).toEqual(["AWSLogs/111122223333/CloudTrail/eu-west-1/"]);
    expect(
      store("org/").regionPrefixes({ accounts: ["111122223333", "444455556666"], regions: ["eu-west-1"] }),
    ).toEqual(["org/AWSLogs/111122223333/CloudTrail/eu-west-1/", "org/AWSLogs/444455556666/CloudTrail/eu-west-1/"]);
    expect(store("AWSLogs/o-abc123def4/").regionPrefixes(SCOPE)).toEqual([
      "AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/",
    ]);
    expect(store("x/AWSLogs/111122223333/CloudTrail/eu-central-1/").regionPrefixes(SCOPE)).toEqual([
      "x/AWSLogs/111122223333/CloudTrail/eu-central-1/",
    ]);
  });

  it("lists only the window's day folders and reads the log files (digests live elsewhere and are not listed)", async () => {
    const store = openCloudTrailStore(
      { kind: "s3", bucket: "kakunin-trail", prefix: "org/" },
      { region: "eu-west-1", timeoutMs: 5_000, s3: client },
    );
    const listed = await store.list(DAY, DAY + 86_400_000 - 1, SCOPE);
    expect(listed.map((o) => o.key.slice(REGION_PREFIX.length))).toEqual([
      "2024/05/14/111122223333_CloudTrail_eu-west-1_20240514T1005Z_Mu0KsOhtH1ar15ZZ.json.gz",
      "2024/05/14/111122223333_CloudTrail_eu-west-1_20240514T1015Z_q3Vb8NxT2cLm5RwA.json.gz",
    ]);
    const read = await readCloudTrailWindow(store, DAY, DAY + 86_400_000 - 1, { scope: SCOPE });
    expect(read.problems).toEqual([]);
    expect(read.events.map((e) => e.eventName)).toEqual([
      "Sign",
      "GetPublicKey",
      "Sign",
      "Sign",
      "DisableKey",
      "Sign",
      "Sign",
    ]);
    // Across midnight: both neighbouring days' files, nothing of the 14th.
    const night = await store.list(Date.parse("2024-05-13T23:00:00Z"), Date.parse("2024-05-15T01:00:00Z"), SCOPE);
    expect(night.map((o) => o.key.slice(REGION_PREFIX.length, REGION_PREFIX.length + 10))).toEqual([
      "2024/05/13",
      "2024/05/14",
      "2024/05/14",
      "2024/05/15",
    ]);
  });

  it("drives a reconciliation like the folder store does", async () => {
    const reconciler = new Reconciler({
      store: new S3CloudTrailStore(client, "kakunin-trail", "org/"),
      owners: new StaticKeyOwners([
        [
          "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321",
          { role: "agent", issuerId: "iss_acme", agentId: "agt_pay" },
        ],
      ]),
      recorded: new InMemoryRecordedSignatures(),
      publish: () => {},
      clock: () => Date.parse("2024-05-14T12:00:00Z"),
      options: { initialLookbackMs: 6 * 3_600_000, graceMs: 0 },
    });
    const report = await reconciler.runOnce();
    expect(report).toMatchObject({ logFilesRead: 2, signEvents: 5, unlogged: 2, refused: 1, foreign: 2 });
    expect(report.alerts.map((a) => a.kind).sort()).toEqual([
      "kms-access-denied",
      "unlogged-signature",
      "unlogged-signature",
    ]);
  });

  it("an S3 error is CloudTrailUnavailableError with the operation and status", async () => {
    const store = new S3CloudTrailStore(client, "no-such-bucket", "");
    await expect(store.list(DAY, DAY + 1, SCOPE)).rejects.toMatchObject({
      code: "ERR_CLOUDTRAIL_UNAVAILABLE",
      message: expect.stringMatching(/S3 ListObjectsV2 no-such-bucket\/.* failed: NoSuchBucket \(HTTP 404\)/),
    });
  });

  it("an S3 endpoint that accepts and never answers fails at the deadline", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    const port = (silent.address() as { port: number }).port;
    const stalled = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: "eu-west-1",
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: "x", secretAccessKey: "y" },
    });
    try {
      const started = Date.now();
      await expect(
        new S3CloudTrailStore(stalled, "kakunin-trail", "org/", 300).list(DAY, DAY + 1, SCOPE),
      ).rejects.toMatchObject({
        code: "ERR_CLOUDTRAIL_UNAVAILABLE",
        message: expect.stringContaining("did not finish within 300 ms"),
      });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      stalled.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});
