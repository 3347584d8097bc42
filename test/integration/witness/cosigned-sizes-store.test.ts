/**
 * `CosignedSizes` contract: the in-memory reference and the database store (migration 005) on real
 * SQLite and PostgreSQL behave alike; the database one survives reopening.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../../server/db/connect.js";
import { KyselyCosignedSizes } from "../../../server/log/storage/witness-state.js";
import { MemoryCosignedSizes, type CosignedSizes } from "../../../server/log/witnessing/state.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { migratedDb } from "../../helpers/store-db.js";

const W1 = "w1.example+1a2b3c4d+BAAA";
const W2 = "w2.example+5e6f7a8b+BBBB";
const O1 = "kakunin.test/log/iss_1";
const O2 = "kakunin.test/log/iss_2";

function contract(make: () => CosignedSizes) {
  it("unknown until set; per (witness, origin); the latest word wins, even a smaller size", async () => {
    const s = make();
    expect(await s.get(W1, O1)).toBeUndefined();
    await s.set(W1, O1, 5);
    await s.set(W2, O1, 7);
    await s.set(W1, O2, 2 ** 40);
    expect([await s.get(W1, O1), await s.get(W2, O1), await s.get(W1, O2), await s.get(W2, O2)]).toEqual([
      5,
      7,
      2 ** 40,
      undefined,
    ]);
    await s.set(W1, O1, 9);
    await s.set(W2, O1, 3); // a witness that lost its state answered 409 with 3
    expect([await s.get(W1, O1), await s.get(W2, O1)]).toEqual([9, 3]);
  });
}

describe("CosignedSizes: memory", () => contract(() => new MemoryCosignedSizes()));

const kinds = await databaseKinds("cosigned sizes store");
describe.each(kinds)("CosignedSizes: database on %s", (kind) => {
  let db: Awaited<ReturnType<typeof migratedDb>>;
  let n = 0;
  beforeAll(async () => {
    db = await migratedDb(kind);
  });
  afterAll(async () => db?.close());

  // Each case on its own origins (the table is shared).
  contract(() => {
    const s: CosignedSizes = new KyselyCosignedSizes(db.handle.db);
    const tag = `#${n++}`;
    return {
      get: (w, o) => s.get(w, o + tag),
      set: (w, o, size) => s.set(w, o + tag, size),
    };
  });

  it("refuses a size that is not a tree size, changing nothing", async () => {
    const s = new KyselyCosignedSizes(db.handle.db);
    await s.set(W1, "refuse", 4);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60])
      await expect(s.set(W1, "refuse", bad)).rejects.toThrow(RangeError);
    expect(await s.get(W1, "refuse")).toBe(4);
  });

  it("is seen by another connection to the same database (a restarted or second instance)", async () => {
    await new KyselyCosignedSizes(db.handle.db).set(W2, "restart", 42);
    const other = await createDb(db.url);
    try {
      expect(await new KyselyCosignedSizes(other.db).get(W2, "restart")).toBe(42);
    } finally {
      await other.close();
    }
  });
});
