/**
 * `PendingRetries` contract: the in-memory reference and the database store (migration 008,
 * `witness_retries`) on real SQLite and PostgreSQL behave alike — one retry per origin, a late
 * round of an older checkpoint never replaces a newer one, clearing only up to the size met.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KyselyPendingRetries } from "../../../server/log/storage/witness-state.js";
import { MemoryPendingRetries, type PendingRetries, type PendingRetry } from "../../../server/log/witnessing/state.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { migratedDb } from "../../helpers/store-db.js";

const retry = (origin: string, size: number, attempts = 1, missing = ["w2"]): PendingRetry => ({
  origin,
  issuerId: origin.split("/").at(-1)!,
  size,
  attempts,
  since: "2026-12-03T10:00:00.000Z",
  lastAttemptAt: `2026-12-03T10:00:0${attempts}.000Z`,
  missing,
});

function contract(make: () => PendingRetries, tag: () => string) {
  it("one per origin; newer sizes and later rounds replace it, an older size does not; clear up to the size met", async () => {
    const s = make();
    const o1 = `kakunin.test/iss_1${tag()}`;
    const o2 = `kakunin.test/iss_2${tag()}`;
    expect(await s.get(o1)).toBeUndefined();
    await s.set(retry(o1, 5, 0, ["w1", "w2"]));
    await s.set(retry(o1, 5, 1));
    await s.set(retry(o2, 2 ** 40, 3, []));
    expect(await s.get(o1)).toEqual(retry(o1, 5, 1));
    await s.set(retry(o1, 4, 7)); // a late answer for an older checkpoint
    expect(await s.get(o1)).toEqual(retry(o1, 5, 1));
    await s.set(retry(o1, 9, 1));
    expect((await s.list()).filter((p) => p.origin === o1 || p.origin === o2)).toEqual([
      retry(o1, 9, 1),
      retry(o2, 2 ** 40, 3, []),
    ]);
    await s.clear(o1, 8); // the quorum of an older checkpoint: the newer one is still pending
    expect((await s.get(o1))?.size).toBe(9);
    await s.clear(o1, 9);
    expect(await s.get(o1)).toBeUndefined();
    expect(await s.get(o2)).toBeDefined();
  });
}

describe("PendingRetries: memory", () =>
  contract(
    () => new MemoryPendingRetries(),
    () => "",
  ));

const kinds = await databaseKinds("pending retries store");
describe.each(kinds)("PendingRetries: database on %s", (kind) => {
  let db: Awaited<ReturnType<typeof migratedDb>>;
  let n = 0;
  beforeAll(async () => {
    db = await migratedDb(kind);
  });
  afterAll(async () => db?.close());
  contract(
    () => new KyselyPendingRetries(db.handle.db),
    () => `#${n++}`,
  );
});
