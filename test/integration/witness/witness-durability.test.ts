/**
 * kakunin-witness under crashes and races: kill -9 mid-run keeps the state; concurrent add-checkpoint
 * calls for one origin (also through two processes sharing one data directory) never roll back; a KMS
 * that stops answering hits the deadline and changes nothing.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { CreateKeyCommand } from "@aws-sdk/client-kms";
import { describe, expect, it } from "vitest";
import { startLocalKms, LOCAL_KMS_ACCESS_KEY_ID } from "../../helpers/kms.js";
import { startWitness } from "../../helpers/witness.js";
import { addCheckpoint, TestLog } from "../../helpers/witness-log.js";
import { verifyCosignatureLineFromSpec } from "./spec-verifier.js";

async function latestSize(url: string, log: TestLog): Promise<number> {
  const r = await addCheckpoint(url, await log.body(0, 0));
  return r.status === 409 ? Number(r.text) : 0;
}

describe("kakunin-witness durability", () => {
  it("keeps its state across kill -9 in the middle of a run", async () => {
    const dir = await mkdtemp(join(tmpdir(), "witness-kill-"));
    const log = new TestLog("log.example/crash");
    await log.grow(300);
    const args = [
      "--name",
      "w.example/crash",
      "--key-file",
      join(dir, "key.pem"),
      "--data-dir",
      dir,
      "--log",
      await log.vkey(),
    ];
    const w = await startWitness(args);
    let acked = 0;
    for (let size = 1; size <= 40; size++) {
      const r = await addCheckpoint(w.url, await log.body(acked, size * 3));
      expect(r.status, r.text).toBe(200);
      acked = size * 3;
    }
    // One request in flight while the process is killed.
    const inFlight = addCheckpoint(w.url, await log.body(acked, acked + 7)).catch(() => undefined);
    await w.kill();
    await inFlight;
    const again = await startWitness(args);
    try {
      expect(again.vkey).toBe(w.vkey);
      const size = await latestSize(again.url, log);
      expect([acked, acked + 7]).toContain(size);
      const hash = createHash("sha256").update(log.origin).digest("hex");
      const note = await (await fetch(`${again.url}/${hash}/checkpoint`)).text();
      expect(note.startsWith(await log.text(size))).toBe(true);
      const r = await addCheckpoint(again.url, await log.body(size, 200));
      expect(r.status).toBe(200);
      verifyCosignatureLineFromSpec(await log.text(200), r.text, again.vkey);
    } finally {
      await again.stop();
    }
  });

  it("never rolls back under concurrent add-checkpoint calls, even from two processes on one data directory", async () => {
    // KMS latency widens the window between check and write, where a rollback would happen without the compare-and-set.
    const kms = await startLocalKms({ latencyMs: 10, jitterMs: 20 });
    const key = await kms
      .client()
      .send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" }));
    const env = {
      KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: kms.region,
      AWS_ACCESS_KEY_ID: LOCAL_KMS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: "local",
    };
    const dir = await mkdtemp(join(tmpdir(), "witness-race-"));
    const log = new TestLog("log.example/race");
    await log.grow(1200);
    const args = [
      "--name",
      "w.example/race",
      "--kms-key-id",
      key.KeyMetadata!.KeyId!,
      "--data-dir",
      dir,
      "--log",
      await log.vkey(),
    ];
    const a = await startWitness(args, env);
    const b = await startWitness(args, env);
    try {
      // Three rounds: a rollback is a timing accident, so give it several chances to show.
      for (let round = 0; round < 3; round++) {
        const targets = Array.from({ length: 24 }, (_, i) => round * 400 + 5 + ((i * 157) % 390));
        const cosigned: number[] = [];
        // Each worker behaves like a log: start from 0, follow 409s, stop once the witness is at or past its target.
        await Promise.all(
          targets.map(async (target, i) => {
            const url = i % 2 === 0 ? a.url : b.url;
            let old = 0;
            for (let attempt = 0; attempt < 100; attempt++) {
              const r = await addCheckpoint(url, await log.body(old, target));
              if (r.status === 200) {
                cosigned.push(target);
                return;
              }
              expect(r.status, r.text).toBe(409);
              expect(r.type).toBe("text/x.tlog.size");
              old = Number(r.text);
              if (old >= target) return;
            }
            throw new Error("no progress in 100 attempts");
          }),
        );
        const final = await latestSize(a.url, log);
        expect(final).toBe(Math.max(...targets));
        expect(await latestSize(b.url, log)).toBe(final);
        expect(cosigned.length).toBeGreaterThan(0);
        for (const s of cosigned) expect(s).toBeLessThanOrEqual(final);
      }
    } finally {
      await a.stop();
      await b.stop();
      await kms.stop();
    }
  });

  it("gives up on a KMS that stops answering at the deadline (503) and changes nothing", async () => {
    const kms = await startLocalKms();
    const dir = await mkdtemp(join(tmpdir(), "witness-kms-"));
    const log = new TestLog("log.example/kms");
    await log.grow(10);
    const key = await kms
      .client()
      .send(new CreateKeyCommand({ KeySpec: "ECC_NIST_EDWARDS25519", KeyUsage: "SIGN_VERIFY" }));
    const env = {
      KMS_ENDPOINT: kms.endpoint,
      AWS_REGION: kms.region,
      AWS_ACCESS_KEY_ID: LOCAL_KMS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: "local",
    };
    const w = await startWitness(
      [
        "--name",
        "w.example/kms",
        "--kms-key-id",
        key.KeyMetadata!.KeyId!,
        "--kms-timeout-ms",
        "500",
        "--data-dir",
        dir,
        "--log",
        await log.vkey(),
      ],
      env,
    );
    try {
      expect((await addCheckpoint(w.url, await log.body(0, 4))).status).toBe(200);
      process.kill(kms.pid, "SIGSTOP");
      const r = await addCheckpoint(w.url, await log.body(4, 10));
      process.kill(kms.pid, "SIGCONT");
      expect(r.status).toBe(503);
      expect(JSON.parse(r.text).code).toBe("ERR_WITNESS_SIGNER");
      expect(await latestSize(w.url, log)).toBe(4);
      expect((await addCheckpoint(w.url, await log.body(4, 10))).status).toBe(200);
    } finally {
      process.kill(kms.pid, "SIGCONT");
      await w.stop();
      await kms.stop();
    }
  });
});
