/**
 * The log v2 checkpoint key, in real server processes with the real local KMS over HTTP: created
 * once in KMS as ECC_NIST_EDWARDS25519 (found again by its alias after a restart, never a second
 * key), and published per issuer as `<KAKUNIN_LOG_NAME>/<issuer id>+<key id>+<key>`, the key being
 * exactly what KMS GetPublicKey returns. A signature KMS makes with it verifies under the vkey.
 */
import { DescribeKeyCommand, GetPublicKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../server/config.js";
import { formatNote, openNote, parseVerifierKey } from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { httpCaller, setupIssuer } from "../log/fixture.js";

let kms: LocalKms;
let server: RunningServer | undefined;
beforeAll(async () => {
  kms = await startLocalKms();
});
afterAll(async () => {
  await server?.stop();
  await kms?.stop();
});

/** The issuer log's line of GET /v1/public/log-keys. */
async function vkeyOf(url: string, issuerId: string): Promise<string> {
  const res = await fetch(`${url}/v1/public/log-keys`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  const text = await res.text();
  expect(text.endsWith("\n")).toBe(true);
  const line = text.split("\n").find((l) => l.split("+")[0]!.endsWith(`/${issuerId}`));
  if (!line) throw new Error(`no key line for ${issuerId}`);
  return line;
}

describe("checkpoint key", () => {
  it("is one Ed25519 KMS key, published per issuer with the origin as key name, the same after a restart", async () => {
    server = await startServer({ kmsEndpoint: kms.endpoint, env: { LOG_LEVEL: "warn" } });
    const iss = await setupIssuer(httpCaller(server.url), server.operatorToken, 0, "Key Test");
    const line = await vkeyOf(server.url, iss.issuerId);
    const vkey = await parseVerifierKey(line);
    expect(vkey.name).toBe(`kakunin.test/${iss.issuerId}`); // KAKUNIN_PUBLIC_URL http://kakunin.test, schema-less

    const client = kms.client({ maxAttempts: 1 });
    const desc = await client.send(new DescribeKeyCommand({ KeyId: "alias/kakunin/tlog" }));
    expect(desc.KeyMetadata?.KeySpec).toBe("ECC_NIST_EDWARDS25519");
    expect(desc.KeyMetadata?.SigningAlgorithms).toContain("ED25519_SHA_512");
    const spki = (await client.send(new GetPublicKeyCommand({ KeyId: "alias/kakunin/tlog" }))).PublicKey!;
    expect(Buffer.from(spki.slice(12)).toString("hex")).toBe(Buffer.from(vkey.publicKey).toString("hex"));

    // KMS signs a note with it (RAW over the text); the published vkey verifies it, and nothing else does.
    const text = `${vkey.name}\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n`;
    const sig = (
      await client.send(
        new SignCommand({
          KeyId: "alias/kakunin/tlog",
          Message: new TextEncoder().encode(text),
          MessageType: "RAW",
          SigningAlgorithm: "ED25519_SHA_512",
        }),
      )
    ).Signature!;
    const note = formatNote({
      text,
      signatures: [{ name: vkey.name, keyId: vkey.keyId, signature: new Uint8Array(sig) }],
    });
    const opened = await openNote(note, [vkey]);
    expect(opened.text).toBe(text);
    const tampered = note.replace("\n1\n", "\n2\n");
    await expect(openNote(tampered, [vkey])).rejects.toThrow();

    // Another issuer: same key, its own name and key ID.
    const other = await setupIssuer(httpCaller(server.url), server.operatorToken, 0, "Other");
    const otherKey = await parseVerifierKey(await vkeyOf(server.url, other.issuerId));
    expect(otherKey.publicKey).toEqual(vkey.publicKey);
    expect(otherKey.keyId).not.toBe(vkey.keyId);

    // Unknown issuer: 404 problem; malformed id: 400.
    expect((await fetch(`${server.url}/v1/logs/iss_${"0".repeat(32)}/checkpoint`)).status).toBe(404);
    expect((await fetch(`${server.url}/v1/logs/nope/checkpoint`)).status).toBe(400);

    // Restart on the same data: the same key (no second CreateKey), the same vkey.
    const { dataDir, operatorToken } = server;
    await server.stop();
    server = await startServer({
      kmsEndpoint: kms.endpoint,
      dataDir,
      operatorToken,
      env: { LOG_LEVEL: "warn", KAKUNIN_LOG_NAME: "log.example.org/kakunin" },
    });
    const renamed = await parseVerifierKey(await vkeyOf(server.url, iss.issuerId));
    expect(renamed.name).toBe(`log.example.org/kakunin/${iss.issuerId}`);
    expect(renamed.publicKey).toEqual(vkey.publicKey);
    const again = await client.send(new DescribeKeyCommand({ KeyId: "alias/kakunin/tlog" }));
    expect(again.KeyMetadata?.Arn).toBe(desc.KeyMetadata?.Arn);
  });

  it("derives the log name from KAKUNIN_PUBLIC_URL and refuses names that cannot be an origin", () => {
    const base = { DATA_DIR: "/tmp/x", KAKUNIN_OPERATOR_TOKEN: "kkn_op_x" };
    expect(loadConfig({ ...base, KAKUNIN_PUBLIC_URL: "https://audit.example.com:8443/kakunin/" }).logName).toBe(
      "audit.example.com:8443/kakunin",
    );
    expect(loadConfig({ ...base, KAKUNIN_PUBLIC_URL: "https://audit.example.com" }).logName).toBe("audit.example.com");
    for (const bad of ["has space", "a+b", "trailing/"]) {
      expect(() => loadConfig({ ...base, KAKUNIN_LOG_NAME: bad })).toThrow(/KAKUNIN_LOG_NAME/);
    }
  });
});
