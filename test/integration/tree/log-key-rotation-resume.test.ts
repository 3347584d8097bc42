/**
 * A log key rotation interrupted after any step (a crash, simulated by `stopAfter`) is finished by
 * the next call, with the real local KMS and SQLite: one new key per rotation, never two; the old
 * key disabled in KMS and recorded Disabled; the published history current first. A rotation while
 * another process holds the rotation lease is refused with 409 ERR_OPERATION_IN_PROGRESS.
 */
import { DescribeKeyCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInProcessApi, type InProcessApi } from "../../helpers/app.js";
import { rotateLogKey, type LogKeyRotationStep } from "../../../server/authority/rotate-log-key.js";
import { allCheckpointKeys } from "../../../server/authority/log-keys.js";
import { SimulatedCrash } from "../../../server/authority/simulated-crash.js";

let api: InProcessApi;
beforeAll(async () => {
  api = await startInProcessApi();
}, 120_000);
afterAll(async () => {
  await api?.close();
});

/** Every Ed25519 key in the local KMS, with its state. */
async function ed25519Keys(): Promise<Map<string, string>> {
  const client = api.kms.client({ maxAttempts: 1 });
  const out = new Map<string, string>();
  for (const k of (await client.send(new ListKeysCommand({}))).Keys ?? []) {
    const m = (await client.send(new DescribeKeyCommand({ KeyId: k.KeyArn! }))).KeyMetadata!;
    if (m.KeySpec === "ECC_NIST_EDWARDS25519") out.set(m.Arn!, m.KeyState!);
  }
  return out;
}

describe("log key rotation, interrupted", () => {
  // "CreateKey": the key exists in KMS but not in the database; the next call finds it by its tag.
  const steps: (LogKeyRotationStep | "CreateKey")[] = ["started", "CreateKey", "key_created", "switched"];
  for (const step of steps)
    it(`after "${step}" is finished by the next call`, async () => {
      const deps = api.services.deps;
      const before = await allCheckpointKeys(deps.db);
      const kmsBefore = await ed25519Keys();
      await expect(rotateLogKey(deps, { stopAfter: step })).rejects.toBeInstanceOf(SimulatedCrash);
      // Until the switch, the old key still signs; from it on, the new one does.
      const mid = await allCheckpointKeys(deps.db);
      expect(mid[0]!.arn === before[0]!.arn).toBe(step !== "switched");

      const r = await rotateLogKey(deps);
      expect(r).toMatchObject({ status: "rotated", resumed: true });
      expect(r.previous.arn).toBe(before[0]!.arn);
      const after = await allCheckpointKeys(deps.db);
      expect(after.map((k) => k.arn)).toEqual([r.next.arn, ...before.map((k) => k.arn)]);

      const kmsAfter = await ed25519Keys();
      expect(kmsAfter.size).toBe(kmsBefore.size + 1); // exactly one new key, even after the crash
      expect(kmsAfter.get(r.next.arn)).toBe("Enabled");
      for (const old of before) expect(kmsAfter.get(old.arn), old.arn).toBe("Disabled");
      const row = await deps.db
        .selectFrom("keys")
        .select(["state", "disabled_at"])
        .where("arn", "=", r.previous.arn)
        .executeTakeFirstOrThrow();
      expect(row.state).toBe("Disabled");
      expect(row.disabled_at).not.toBeNull();
      // Nothing left unfinished: the next call is a new rotation.
      expect(await deps.db.selectFrom("system").select("value").where("name", "=", "tlog_rotation").execute()).toEqual(
        [],
      );
    }, 60_000);

  it("is refused with 409 ERR_OPERATION_IN_PROGRESS while another process rotates", async () => {
    const deps = api.services.deps;
    await deps.db
      .insertInto("leases")
      .values({
        name: "log-key-rotation",
        owner: "another-host/1",
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      })
      .execute();
    try {
      const res = await api.call("POST", "/v1/admin/log-key/rotate", { token: api.operatorToken });
      expect([res.status, res.json.code]).toEqual([409, "ERR_OPERATION_IN_PROGRESS"]);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    } finally {
      await deps.db.deleteFrom("leases").where("name", "=", "log-key-rotation").execute();
    }
    const ok = await api.call("POST", "/v1/admin/log-key/rotate", { token: api.operatorToken });
    expect([ok.status, ok.json.status]).toEqual([200, "rotated"]);
  });
});
