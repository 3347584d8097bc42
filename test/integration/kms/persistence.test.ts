import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetPublicKeyCommand,
  SignCommand,
} from "@aws-sdk/client-kms";
import { afterEach, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { opensslVerify } from "./openssl.js";

const running: LocalKms[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.stop()));
});

async function start(dataDir?: string) {
  const kms = await startLocalKms(dataDir ? { dataDir } : {});
  running.push(kms);
  return kms;
}

const message = Buffer.from("persist me");

describe("persistence", () => {
  it("a restart on the same data dir keeps keys, aliases, state and public keys", async () => {
    const first = await start();
    let client = first.client();
    const meta = (
      await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY", Description: "kept" }))
    ).KeyMetadata!;
    const disabledMeta = (
      await client.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }))
    ).KeyMetadata!;
    await client.send(new CreateAliasCommand({ AliasName: "alias/kept", TargetKeyId: meta.KeyId }));
    await client.send(new DisableKeyCommand({ KeyId: disabledMeta.KeyId }));
    const publicKey = (await client.send(new GetPublicKeyCommand({ KeyId: meta.KeyId }))).PublicKey!;
    client.destroy();
    await first.stop();

    const second = await start(first.dataDir);
    client = second.client();
    expect((await client.send(new GetPublicKeyCommand({ KeyId: "alias/kept" }))).PublicKey).toEqual(publicKey);
    expect((await client.send(new DescribeKeyCommand({ KeyId: meta.KeyId }))).KeyMetadata).toEqual(meta);
    expect((await client.send(new DescribeKeyCommand({ KeyId: disabledMeta.KeyId }))).KeyMetadata!.KeyState).toBe(
      "Disabled",
    );
    const signature = (
      await client.send(
        new SignCommand({ KeyId: meta.KeyId, Message: message, SigningAlgorithm: "RSASSA_PSS_SHA_256" }),
      )
    ).Signature!;
    expect(await opensslVerify({ publicKeyDer: publicKey, message, signature, pssSaltLength: 32 })).toBe(true);
    client.destroy();
  });

  it("a key acknowledged before a crash (SIGKILL) survives it", async () => {
    const first = await start();
    const client = first.client();
    const meta = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" })))
      .KeyMetadata!;
    client.destroy();
    await first.kill();
    running.splice(running.indexOf(first), 1);

    const second = await start(first.dataDir);
    const client2 = second.client();
    await client2.send(
      new SignCommand({ KeyId: meta.KeyId, Message: message, SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256" }),
    );
    client2.destroy();
  });

  it("key files are mode 0600 and the data dir 0700; no temp files are left behind", async () => {
    const kms = await start();
    const client = kms.client();
    await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }));
    client.destroy();
    expect((await stat(kms.dataDir)).mode & 0o777).toBe(0o700);
    const keysDir = join(kms.dataDir, "keys");
    expect((await stat(keysDir)).mode & 0o777).toBe(0o700);
    const files = await readdir(keysDir);
    expect(files.filter((f) => f.endsWith(".key"))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith(".tmp"))).toHaveLength(0);
    for (const file of files) expect((await stat(join(keysDir, file))).mode & 0o777).toBe(0o600);
  });
});
