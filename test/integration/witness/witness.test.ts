/**
 * kakunin-witness as real processes over HTTP: one signing with a local-KMS Ed25519 key, one with a key
 * file. The log side is played by the test (formats primitives + Ed25519). C2SP tlog-witness statuses.
 */
import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, LOCAL_KMS_ACCESS_KEY_ID, type LocalKms } from "../../helpers/kms.js";
import { startWitness, runWitness, type WitnessProcess } from "../../helpers/witness.js";
import { addCheckpoint, TestLog } from "../../helpers/witness-log.js";
import { verifyCosignatureLineFromSpec } from "./spec-verifier.js";

let kms: LocalKms;
let kmsKeyId: string;
let w1: WitnessProcess;
let w2: WitnessProcess;
let w2Dir: string;
const log = new TestLog("log.example/issuer-a");
const other = new TestLog("log.example/not-followed");
const prefixed = new TestLog("kakunin.example/issuers/acme");

async function kmsEnv() {
  return {
    KMS_ENDPOINT: kms.endpoint,
    AWS_REGION: kms.region,
    AWS_ACCESS_KEY_ID: LOCAL_KMS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: "local",
  };
}

beforeAll(async () => {
  kms = await startLocalKms();
  const created = await kms
    .client()
    .send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" }));
  kmsKeyId = created.KeyMetadata!.KeyId!;
  const logArgs = ["--log", await log.vkey(), "--log-prefix", "kakunin.example/issuers/", await prefixed.vkey()];
  w1 = await startWitness(
    [
      "--name",
      "w1.example/witness",
      "--kms-key-id",
      kmsKeyId,
      "--data-dir",
      await mkdtemp(join(tmpdir(), "witness-1-")),
      ...logArgs,
    ],
    await kmsEnv(),
  );
  w2Dir = await mkdtemp(join(tmpdir(), "witness-2-"));
  w2 = await startWitness([
    "--name",
    "w2.example/witness",
    "--key-file",
    join(w2Dir, "key.pem"),
    "--data-dir",
    w2Dir,
    "--prefix",
    "/w",
    ...logArgs,
  ]);
});
afterAll(async () => {
  await w1?.stop();
  await w2?.stop();
  await kms?.stop();
});

describe("kakunin-witness", () => {
  it("has two independent keys; the key file was created with mode 0600; GET / names the key and the logs", async () => {
    expect(w1.vkey).toMatch(/^w1\.example\/witness\+[0-9a-f]{8}\+/);
    expect(w2.vkey).toMatch(/^w2\.example\/witness\+[0-9a-f]{8}\+/);
    expect(w1.vkey.split("+")[2]).not.toBe(w2.vkey.split("+")[2]);
    expect(statSync(join(w2Dir, "key.pem")).mode & 0o777).toBe(0o600);
    const index = (await (await fetch(`${w2.url}/`)).json()) as {
      vkey: string;
      logs: { origin: string }[];
      originPrefixes: { prefix: string }[];
    };
    expect(index.vkey).toBe(w2.vkey);
    expect(index.logs.map((l) => l.origin)).toEqual([log.origin]);
    expect(index.originPrefixes.map((p) => p.prefix)).toEqual(["kakunin.example/issuers/"]);
  });

  it("cosigns a growing sequence of checkpoints; a verifier written from the spec accepts every cosignature", async () => {
    let old = 0;
    for (const grow of [1, 4, 3, 5, 19, 32]) {
      await log.grow(grow);
      const text = await log.text(log.size);
      for (const w of [w1, w2]) {
        const vkey = w.vkey;
        const r = await addCheckpoint(w.url, await log.body(old));
        expect(r.status, r.text).toBe(200);
        const lines = r.text.match(/^.*\n/gm)!;
        expect(lines).toHaveLength(1);
        const ts = verifyCosignatureLineFromSpec(text, lines[0]!, vkey);
        expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(120);
      }
      old = log.size;
    }
    // OpenSSL checks the last cosignature too: Ed25519 over "cosignature/v1\ntime <t>\n" + checkpoint text.
    const last = await addCheckpoint(w2.url, await log.body(log.size));
    expect(last.status).toBe(200);
    const raw = Buffer.from(last.text.trim().split(" ")[2]!, "base64");
    const dir = await mkdtemp(join(tmpdir(), "witness-openssl-"));
    const pub = Buffer.from(w2.vkey.split("+").slice(2).join("+"), "base64").subarray(1); // base64 may itself hold '+'
    writeFileSync(join(dir, "pub.der"), Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), pub]));
    writeFileSync(join(dir, "msg"), `cosignature/v1\ntime ${raw.readBigUInt64BE(4)}\n${await log.text(log.size)}`);
    writeFileSync(join(dir, "sig"), raw.subarray(12));
    const out = execFileSync(
      "openssl",
      [
        "pkeyutl",
        "-verify",
        "-pubin",
        "-keyform",
        "DER",
        "-inkey",
        join(dir, "pub.der"),
        "-rawin",
        "-in",
        join(dir, "msg"),
        "-sigfile",
        join(dir, "sig"),
      ],
      { encoding: "utf8" },
    );
    expect(out).toContain("Signature Verified Successfully");
    // Same size, same root: cosigned again.
    expect((await addCheckpoint(w1.url, await log.body(log.size))).status).toBe(200);
    // Monitoring endpoint: the latest checkpoint with the log's signature and the cosignature.
    const hash = createHash("sha256").update(log.origin).digest("hex");
    const note = await (await fetch(`${w2.url}/${hash}/checkpoint`)).text();
    expect(note.startsWith(await log.text(log.size))).toBe(true);
    expect(note).toContain(`\u2014 ${log.origin} `);
    verifyCosignatureLineFromSpec(
      await log.text(log.size),
      note.split("\n").filter((l) => l.startsWith("\u2014 w2.example"))[0]! + "\n",
      w2.vkey,
    );
  });

  it("follows every origin under --log-prefix", async () => {
    await prefixed.grow(3);
    const r = await addCheckpoint(w1.url, await prefixed.body(0));
    expect(r.status, r.text).toBe(200);
    // One key for every issuer, each log naming it after its own origin (tlog-checkpoint's advice).
    const issuerB = new TestLog("kakunin.example/issuers/beta", { keyOf: prefixed, nameAfterOrigin: true });
    await issuerB.grow(2);
    expect(issuerB.keyName).toBe(issuerB.origin);
    const b = await addCheckpoint(w1.url, await issuerB.body(0));
    expect(b.status, b.text).toBe(200);
    // Named after another origin under the prefix, the same key does not vouch for this one.
    const misnamed = new TestLog("kakunin.example/issuers/gamma", { keyOf: issuerB });
    await misnamed.grow(1);
    expect((await addCheckpoint(w1.url, await misnamed.body(0))).status).toBe(403);
  });

  it("answers each error status of the spec", async () => {
    const size = log.size;
    // 404: origin not followed (validly signed by its own key).
    await other.grow(2);
    expect((await addCheckpoint(w1.url, await other.body(0))).status).toBe(404);
    // 403: signed by a key the witness does not trust for this origin (same name, other key).
    const impostor = new TestLog(log.origin);
    await impostor.grow(size + 1);
    expect((await addCheckpoint(w1.url, await impostor.body(size))).status).toBe(403);
    // 403: a trusted key's name and ID, but the signature does not verify (checkpoint text altered).
    const good = await log.body(size);
    const forged = good.replace(`\n${size}\n`, `\n${size + 1}\n`);
    const f = await addCheckpoint(w1.url, forged);
    expect(f.status).toBe(403);
    expect(JSON.parse(f.text).code).toBe("ERR_WITNESS_LOG_SIGNATURE");
    // 404: an origin outside the --log-prefix, though signed by the prefix's key.
    const outside = new TestLog("kakunin.example/elsewhere", { keyOf: prefixed });
    await outside.grow(1);
    expect((await addCheckpoint(w1.url, await outside.body(0))).status).toBe(404);
    // 403: a followed origin signed by another followed log's key (key name ≠ origin).
    const crossSigned = new TestLog(log.origin, { keyOf: prefixed });
    await crossSigned.grow(size + 1);
    expect((await addCheckpoint(w1.url, await crossSigned.body(size))).status).toBe(403);
    // 413: an oversized body is refused before it is read.
    expect((await addCheckpoint(w1.url, `old 0\n${"A".repeat(70_000)}`)).status).toBe(413);
    // 400: old size above the checkpoint's size (also: a rollback to an older checkpoint).
    expect((await addCheckpoint(w1.url, `old ${size}\n\n${await log.checkpoint(size - 5)}`)).status).toBe(400);
    // 409: old size is not the latest cosigned; body is that size.
    await log.grow(2);
    const c = await addCheckpoint(w1.url, await log.body(size - 1));
    expect(c.status).toBe(409);
    expect(c.type).toBe("text/x.tlog.size");
    expect(c.text).toBe(`${size}\n`);
    // A rollback after cosigning: old 0 is not the latest (409 tells the log where it stands).
    expect((await addCheckpoint(w1.url, await log.body(0, 3))).text).toBe(`${size}\n`);
    // 422: a consistency proof that does not verify (one hash flipped).
    const proof = await log.proof(size, log.size);
    proof[0] = new Uint8Array(proof[0]!);
    proof[0]![0]! ^= 1;
    const bad = `old ${size}\n${proof.map((h) => Buffer.from(h).toString("base64") + "\n").join("")}\n${await log.checkpoint()}`;
    expect((await addCheckpoint(w1.url, bad)).status).toBe(422);
    // 422: a proof with old size 0 (a fresh origin under the prefix).
    const fresh = new TestLog("kakunin.example/issuers/fresh", { keyOf: prefixed });
    await fresh.grow(4);
    const proof0 = (await fresh.proof(2, 4)).map((h) => Buffer.from(h).toString("base64") + "\n").join("");
    expect((await addCheckpoint(w1.url, `old 0\n${proof0}\n${await fresh.checkpoint()}`)).status).toBe(422);
    // 422: size 0 with a root that is not the empty tree's.
    expect((await addCheckpoint(w1.url, `old 0\n\n${await fresh.checkpoint(0, await fresh.root(4))}`)).status).toBe(
      422,
    );
    // 400: malformed bodies change nothing.
    for (const body of [
      "",
      "old 01\n\nx",
      "old 3\nnot base64!\n\n" + (await log.checkpoint()),
      `old ${size}\n\n${(await log.checkpoint()).replace(/\n\n.*$/s, "\n")}`,
    ]) {
      expect((await addCheckpoint(w1.url, body)).status).toBe(400);
    }
    // After all that, the state moved only by the correct request.
    expect((await addCheckpoint(w1.url, await log.body(size))).status).toBe(200);
  });

  it("refuses an equivocating log: the second witness to see both roots at one size says 422; a verifier holding both catches it", async () => {
    // Bring both witnesses to the log's current size (the log learns each one's size from a 409).
    const base = log.size;
    for (const w of [w1, w2]) {
      const probe = await addCheckpoint(w.url, await log.body(0, base));
      const at = probe.status === 409 ? Number(probe.text) : 0;
      expect((await addCheckpoint(w.url, await log.body(at, base))).status).toBe(200);
    }
    // The fork shares the first `base` leaves, then differs: each branch has valid proofs from `base`.
    const fork = new TestLog(log.origin, { keyOf: log, fork: base });
    await fork.grow(base + 3);
    await log.grow(3);
    const n = log.size;
    expect(await fork.text(n)).not.toBe(await log.text(n));
    const toW1 = await addCheckpoint(w1.url, await log.body(base));
    const toW2 = await addCheckpoint(w2.url, await fork.body(base));
    expect([toW1.status, toW2.status]).toEqual([200, 200]);
    // Each witness is then shown the other branch at the same size: refused.
    const honest = `old ${n}\n\n${await log.checkpoint(n)}`;
    const forked = `old ${n}\n\n${await fork.checkpoint(n)}`;
    const r2 = await addCheckpoint(w2.url, honest);
    const r1 = await addCheckpoint(w1.url, forked);
    expect([r1.status, r2.status]).toEqual([422, 422]);
    expect(JSON.parse(r2.text).code).toBe("ERR_WITNESS_CONSISTENCY");
    // A verifier holding both cosigned checkpoints sees two roots at one size, each validly cosigned.
    const t1 = await log.text(n);
    const t2 = await fork.text(n);
    verifyCosignatureLineFromSpec(t1, toW1.text, w1.vkey);
    verifyCosignatureLineFromSpec(t2, toW2.text, w2.vkey);
    expect(t1.split("\n")[1]).toBe(t2.split("\n")[1]);
    expect(t1.split("\n")[2]).not.toBe(t2.split("\n")[2]);
    // The refusal carried a valid log signature: it is kept as evidence in w2's origin file, and logged.
    const db = new Database(join(w2Dir, `${createHash("sha256").update(log.origin).digest("hex")}.sqlite`), {
      readonly: true,
    });
    const rows = db.prepare("SELECT status, body FROM refused").all() as { status: number; body: string }[];
    db.close();
    expect(rows.some((x) => x.status === 422 && x.body === honest)).toBe(true);
    expect(w2.stderr()).toContain("refused a validly signed checkpoint");
  });
});

describe("kakunin-witness command line", () => {
  it("prints --help and fails clearly on bad configuration", async () => {
    const help = await runWitness(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--log-prefix PREFIX VKEY");
    const noKey = await runWitness(["--name", "w", "--log", await log.vkey()]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("--kms-key-id");
    // --logs FILE: the same logs from a file, shown by GET /.
    const dir = await mkdtemp(join(tmpdir(), "witness-logs-"));
    writeFileSync(
      join(dir, "logs.txt"),
      `# followed logs\n${await log.vkey()}\nprefix kakunin.example/issuers/ ${await prefixed.vkey()}\n`,
    );
    const w3 = await startWitness([
      "--name",
      "w3.example",
      "--key-file",
      join(dir, "key.pem"),
      "--data-dir",
      dir,
      "--logs",
      join(dir, "logs.txt"),
    ]);
    try {
      const index = (await (await fetch(`${w3.url}/`)).json()) as {
        logs: { origin: string }[];
        originPrefixes: { prefix: string }[];
      };
      expect([index.logs.map((l) => l.origin), index.originPrefixes.map((p) => p.prefix)]).toEqual([
        [log.origin],
        ["kakunin.example/issuers/"],
      ]);
    } finally {
      await w3.stop();
    }
    const badLog = await runWitness(["--name", "w", "--key-file", join(w2Dir, "k2.pem"), "--log", "nope"]);
    expect(badLog.code).toBe(2);
    expect(badLog.stderr).toContain('log verifier key "nope"');
  });
});
