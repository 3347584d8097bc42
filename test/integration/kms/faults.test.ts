import { readFile } from "node:fs/promises";
import { CreateKeyCommand, DescribeKeyCommand, SignCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

/**
 * Fault injection. Each case starts a server with faults on a data dir that already holds a key
 * (created by a fault-free server), so only the calls under test meet the faults.
 */
let dataDir: string;
let keyId: string;
const running: LocalKms[] = [];

beforeAll(async () => {
  const setup = await startLocalKms();
  const client = setup.client();
  keyId = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!
    .KeyId!;
  client.destroy();
  await setup.stop();
  dataDir = setup.dataDir;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.stop()));
});

async function startWith(opts: Parameters<typeof startLocalKms>[0]) {
  const kms = await startLocalKms({ dataDir, ...opts });
  running.push(kms);
  return kms;
}

const signOnce = (client: KMSClient) =>
  client.send(new SignCommand({ KeyId: keyId, Message: Buffer.from("fault"), SigningAlgorithm: "RSASSA_PSS_SHA_256" }));

async function logLinesSince(path: string, offset: number) {
  const text = (await readFile(path, "utf8")).slice(offset);
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { eventName: string; errorCode?: string });
}

describe("fault injection", () => {
  it("throttling (rate 1.0) surfaces as ThrottlingException only after the SDK's retries", async () => {
    const kms = await startWith({ throttleRate: 1 });
    const logOffset = (await readFile(kms.accessLogPath, "utf8")).length;
    const client = kms.client({ maxAttempts: 3 });
    const err = (await signOnce(client).catch((e: unknown) => e)) as {
      name: string;
      $metadata: { attempts?: number; httpStatusCode?: number };
    };
    client.destroy();
    expect(err.name).toBe("ThrottlingException");
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.$metadata.attempts).toBe(3);

    await kms.stop();
    const lines = await logLinesSince(kms.accessLogPath, logOffset);
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatchObject({ eventName: "Sign", errorCode: "ThrottlingException" });
  });

  it("with a partial throttle rate (0.3) calls succeed thanks to retries", async () => {
    const kms = await startWith({ throttleRate: 0.3 });
    const client = kms.client({ maxAttempts: 6 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => signOnce(client)));
    client.destroy();
    const fulfilled = results.filter((r) => r.status === "fulfilled");
    // Failing 6 attempts in a row has probability 0.3^6 ≈ 0.0007 per call.
    expect(fulfilled.length).toBeGreaterThanOrEqual(19);
    // With 20 calls, at least one needed a retry (all first attempts passing has probability 0.7^20 ≈ 0.0008).
    const retried = fulfilled.filter((r) => (r.value.$metadata.attempts ?? 1) > 1);
    expect(retried.length).toBeGreaterThan(0);
  });

  it("faults (rate 1.0) surface as a 5xx KMSInternalException after retries", async () => {
    const kms = await startWith({ faultRate: 1 });
    const client = kms.client({ maxAttempts: 2 });
    const err = (await signOnce(client).catch((e: unknown) => e)) as {
      name: string;
      $metadata: { attempts?: number; httpStatusCode?: number };
    };
    client.destroy();
    expect(err.name).toBe("KMSInternalException");
    expect(err.$metadata.httpStatusCode).toBe(500);
    expect(err.$metadata.attempts).toBe(2);
  });

  it("adds latency to every call", async () => {
    const kms = await startWith({ latencyMs: 300, jitterMs: 50 });
    const client = kms.client();
    const started = Date.now();
    const out = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    const elapsed = Date.now() - started;
    client.destroy();
    expect(out.KeyMetadata!.KeyId).toBe(keyId);
    expect(elapsed).toBeGreaterThanOrEqual(300);
  });
});
