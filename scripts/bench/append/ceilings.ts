/** The physical ceilings beside the append figures: the local KMS's own Sign rate and SQLite commit rates. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateKeyCommand, SignCommand } from "@aws-sdk/client-kms";
import type { startLocalKms } from "../../../test/helpers/kms.js";

export async function kmsSignRate(
  endpoint: string,
  client: ReturnType<Awaited<ReturnType<typeof startLocalKms>>["client"]>,
  seconds: number,
  concurrency: number,
): Promise<number> {
  void endpoint;
  const key = await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }));
  const digest = new Uint8Array(32).fill(7);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await client.send(
          new SignCommand({
            KeyId: key.KeyMetadata!.Arn!,
            Message: digest,
            MessageType: "DIGEST",
            SigningAlgorithm: "RSASSA_PSS_SHA_256",
          }),
        );
        n++;
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

export async function sqliteCommitRate(synchronous: "NORMAL" | "FULL", seconds: number): Promise<number> {
  const { default: SQLite } = await import("better-sqlite3");
  const dir = mkdtempSync(join(tmpdir(), "kakunin-bench-sqlite-"));
  try {
    const db = new SQLite(join(dir, "b.db"));
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous}`);
    db.exec("create table t (k integer primary key, v text)");
    const ins = db.prepare("insert into t (v) values (?)");
    const body = "x".repeat(900);
    let n = 0;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    while (performance.now() < end) {
      db.transaction(() => ins.run(body))();
      n++;
    }
    const rate = n / ((performance.now() - t0) / 1000);
    db.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
