import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";

/**
 * A local S3-compatible server (s3rver, in this process, objects in a temp folder) for tests of
 * code that reads S3 through @aws-sdk/client-s3: real HTTP, real XML, path-style addressing.
 * Known gap of s3rver: ListObjectsV2 with a Delimiter does not report common prefixes below the
 * first level, so code under test should not depend on Delimiter listings.
 */
export interface LocalS3 {
  endpoint: string;
  client(overrides?: Partial<S3ClientConfig>): S3Client;
  stop(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

// s3rver ships no types; the two methods used are declared above.
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverConstructor;

export async function startLocalS3(buckets: string[]): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), "kakunin-s3-"));
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    client: (overrides = {}) =>
      new S3Client({
        endpoint,
        region: "eu-west-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        ...overrides,
      }),
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
