/**
 * Log key rotation with the real local KMS and two real server processes on one database: receipts
 * signed before the rotation keep verifying with the published (old) key, the other instance signs
 * its next checkpoints with the new key without a restart, the old key is Disabled in KMS (never
 * scheduled for deletion) and refuses to sign as AWS does (DisabledException), and GET
 * /v1/public/log-keys lists per origin the new key first, then the old one.
 */
import {
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  SignCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyReceipt } from "../../../verifier/src/index.js";
import {
  formatNote,
  openNote,
  parseNote,
  parseTlogProof,
  parseVerifierKey,
  type NoteVerifierKey,
} from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";

type Json = Record<string, any>;
let kms: LocalKms;
let client: KMSClient;
let a: RunningServer;
let b: RunningServer | undefined;
let caPem: string;

async function call(url: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, json: text.startsWith("{") ? (JSON.parse(text) as Json) : undefined, text };
}
async function ok(url: string, method: string, path: string, token?: string, body?: unknown): Promise<Json> {
  const r = await call(url, method, path, token, body);
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.json!;
}

/** The lines of GET /v1/public/log-keys for the origin of `issuerId`, in order. */
async function keyLines(url: string, issuerId: string): Promise<string[]> {
  const text = await (await fetch(`${url}/v1/public/log-keys`)).text();
  return text.split("\n").filter((l) => l.startsWith(`kakunin.test/${issuerId}+`));
}

/** An operation through `url` and its kakunin-receipt/2 (waiting for the covering checkpoint). */
async function signedReceipt(url: string, agentId: string, token: string, i: number): Promise<Json> {
  const v1 = await ok(url, "POST", `/v1/agents/${agentId}/operations`, token, { payload: { i } });
  // On a busy machine a checkpoint may take longer than one ?wait=5: ask again (bounded).
  for (let attempt = 0; ; attempt++) {
    const r = await call(url, "GET", `/v1/log/entries/${v1.entry.seq}/receipt?wait=5`, token);
    if (r.status === 200) return r.json!;
    if (r.status !== 404 || r.json?.code !== "ERR_RECEIPT_NOT_READY" || attempt >= 8)
      throw new Error(`receipt of entry ${v1.entry.seq}: ${r.status} ${r.text}`);
  }
}

const verdict = async (r: Json, keys: NoteVerifierKey[]) =>
  (await verifyReceipt(r, { trust: { ca: { caCertificate: caPem }, logKeys: keys } })).verdict;

beforeAll(async () => {
  kms = await startLocalKms();
  client = kms.client({ maxAttempts: 1 });
  a = await startServer({
    kmsEndpoint: kms.endpoint,
    env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "100" },
  });
}, 120_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await kms?.stop();
});

describe("log key rotation", () => {
  it("retires the old key, signs with the new one in every instance, and keeps old receipts verifying", async () => {
    const iss = await ok(a.url, "POST", "/v1/issuers", a.operatorToken, { name: "Rotation Co" });
    const agent = await ok(a.url, "POST", "/v1/agents", iss.token, { name: "rot-bot" });
    caPem = await (await fetch(`${a.url}/v1/public/ca.pem`)).text();
    const before = await signedReceipt(a.url, agent.id, iss.token, 0);
    const [oldLine] = await keyLines(a.url, iss.id);
    const oldKey = await parseVerifierKey(oldLine!);
    const oldArn = (await client.send(new DescribeKeyCommand({ KeyId: "alias/kakunin/tlog" }))).KeyMetadata!.Arn!;

    // A second instance on the same database; it started with the old key.
    b = await startServer({
      kmsEndpoint: kms.endpoint,
      dataDir: a.dataDir,
      operatorToken: a.operatorToken,
      env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "100" },
    });

    // Only the operator may rotate.
    expect((await call(a.url, "POST", "/v1/admin/log-key/rotate")).status).toBe(401);
    expect((await call(a.url, "POST", "/v1/admin/log-key/rotate", iss.token)).status).toBe(403);
    expect((await call(a.url, "POST", "/v1/admin/log-key/rotate?prepare=maybe", a.operatorToken)).status).toBe(400);

    // Prepare: the next key exists (for witnesses) but signs nothing and is not published yet.
    const prepared = await ok(a.url, "POST", "/v1/admin/log-key/rotate?prepare=true", a.operatorToken);
    expect(prepared.status).toBe("prepared");
    expect(prepared.previous.arn).toBe(oldArn);
    expect(prepared.next.arn).not.toBe(oldArn);
    expect(prepared.previous.vkey.split("+")[0]).toBe("kakunin.test"); // named after KAKUNIN_LOG_NAME
    const nextPublic = (await parseVerifierKey(prepared.next.vkey)).publicKey;
    expect(await keyLines(a.url, iss.id)).toEqual([oldLine]);
    const stillOld = await signedReceipt(b.url, agent.id, iss.token, 1);
    expect(await verdict(stillOld, [oldKey])).toBe("PASSED");

    // Rotate (finishing the prepared rotation).
    const rotated = await ok(a.url, "POST", "/v1/admin/log-key/rotate", a.operatorToken);
    expect(rotated).toMatchObject({ status: "rotated", resumed: true, rotationId: prepared.rotationId });
    expect(rotated.next.arn).toBe(prepared.next.arn);

    // KMS: the old key is disabled (not pending deletion) and refuses to sign; the alias moved.
    const d = (await client.send(new DescribeKeyCommand({ KeyId: oldArn }))).KeyMetadata!;
    expect([d.KeyState, d.Enabled, d.DeletionDate]).toEqual(["Disabled", false, undefined]);
    const sign = (KeyId: string, text: string) =>
      client.send(
        new SignCommand({
          KeyId,
          Message: new TextEncoder().encode(text),
          MessageType: "RAW",
          SigningAlgorithm: "ED25519_SHA_512",
        }),
      );
    await expect(sign(oldArn, "x")).rejects.toMatchObject({ name: "DisabledException" });
    expect((await client.send(new DescribeKeyCommand({ KeyId: "alias/kakunin/tlog" }))).KeyMetadata!.Arn).toBe(
      rotated.next.arn,
    );

    // Published: per origin the new key first, then the old one (on both instances).
    const lines = await keyLines(a.url, iss.id);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(oldLine);
    const newKey = await parseVerifierKey(lines[0]!);
    expect(newKey.publicKey).toEqual(nextPublic);
    expect(await keyLines(b.url, iss.id)).toEqual(lines);

    // The other instance signs its next checkpoint with the new key, without a restart.
    const after = await signedReceipt(b.url, agent.id, iss.token, 2);
    const note = parseTlogProof(after.proof).checkpoint;
    await expect(openNote(note, [newKey])).resolves.toBeTruthy();
    await expect(openNote(note, [oldKey])).rejects.toThrow();

    // Old and new receipts verify with the published keys pinned; each fails with only the other key.
    const pinned = await Promise.all(lines.map(parseVerifierKey));
    for (const r of [before, stillOld, after]) expect(await verdict(r, pinned)).toBe("PASSED");
    expect(await verdict(before, [newKey])).toBe("FAILED");
    expect(await verdict(after, [oldKey])).toBe("FAILED");

    // A checkpoint of the grown tree signed with the old key (someone re-enabled it — Kakunin never
    // does; its IAM policy denies EnableKey): an auditor pinning only the new key refuses it.
    await client.send(new EnableKeyCommand({ KeyId: oldArn }));
    const text = parseNote(note).text;
    const forged = formatNote({
      text,
      signatures: [
        { name: oldKey.name, keyId: oldKey.keyId, signature: new Uint8Array((await sign(oldArn, text)).Signature!) },
      ],
    });
    const stale = { ...after, proof: after.proof.replace(note, forged) };
    expect(await verdict(stale, [newKey])).toBe("FAILED");
    expect(await verdict(stale, [oldKey])).toBe("PASSED"); // why old keys are pinned only for what they signed
    await client.send(new DisableKeyCommand({ KeyId: oldArn }));

    // A restart keeps the new key and the published history.
    await a.stop();
    a = await startServer({
      kmsEndpoint: kms.endpoint,
      dataDir: a.dataDir,
      operatorToken: a.operatorToken,
      env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "100" },
    });
    expect(await keyLines(a.url, iss.id)).toEqual(lines);
    const restarted = await signedReceipt(a.url, agent.id, iss.token, 3);
    expect(await verdict(restarted, [newKey])).toBe("PASSED");

    // A second rotation: three keys, newest first.
    const again = await ok(a.url, "POST", "/v1/admin/log-key/rotate", a.operatorToken);
    expect(again).toMatchObject({ status: "rotated", resumed: false });
    expect(again.previous.arn).toBe(rotated.next.arn);
    const three = await keyLines(a.url, iss.id);
    expect(three.slice(1)).toEqual(lines);
    expect(three).toHaveLength(3);
  }, 240_000);
});
