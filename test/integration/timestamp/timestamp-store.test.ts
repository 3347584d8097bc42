/**
 * `CheckpointTimestampStore` contract: the in-memory reference and the database store (migration
 * 005) on real SQLite and PostgreSQL behave alike — add is idempotent and never replaces, token
 * bytes round-trip exactly, firstCovering / latestStamped pick by size, origins are separate.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../../server/db/connect.js";
import { KyselyTimestampStore } from "../../../server/log/storage/timestamp-tokens.js";
import {
  MemoryTimestampStore,
  type CheckpointTimestamp,
  type CheckpointTimestampStore,
} from "../../../server/log/timestamping/store.js";
import { checkpointCovering } from "../../helpers/tsa-evidence.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { migratedDb } from "../../helpers/store-db.js";

const token = (url: string, serial: string, genTime: string): CheckpointTimestamp => ({
  tsaUrl: url,
  // Opaque to the store: any bytes must come back unchanged (zeros and 0xff included).
  token: new Uint8Array([0x30, 0x00, 0xff, ...randomBytes(1500)]),
  genTime: new Date(genTime),
  serialNumber: serial,
  policy: "1.3.6.1.4.1.32473.3161.1",
  tsaName: "",
});

const sorted = (ts: CheckpointTimestamp[]) =>
  ts
    .map((t) => ({ ...t, token: Buffer.from(t.token).toString("hex") }))
    .sort((a, b) => (a.tsaUrl + a.serialNumber).localeCompare(b.tsaUrl + b.serialNumber));

function contract(make: () => Promise<CheckpointTimestampStore>) {
  it("adds idempotently, never replaces; tokens round-trip byte for byte", async () => {
    const s = await make();
    const cp = (await checkpointCovering(0, 4, "kakunin.test/log/a")).checkpointText;
    const t1 = token("http://tsa1.example/", "01", "2026-12-03T09:00:00.123Z");
    const t2 = token("http://tsa2.example/", "01", "2026-12-03T09:00:01.000Z");
    await s.add(cp, [t1]);
    await s.add(cp, [t1, t2]);
    // Same (TSA, serial) again with other bytes: the stored token stays.
    await s.add(cp, [{ ...t1, token: new Uint8Array([1, 2, 3]) }]);
    await s.add(cp, []);
    expect(sorted(await s.tokensFor(cp))).toEqual(sorted([t1, t2]));
    expect(await s.tokensFor(cp + "x")).toEqual([]);
    const stamped = await s.latestStamped("kakunin.test/log/a");
    expect(stamped).toMatchObject({ origin: "kakunin.test/log/a", size: 4, text: cp });
    expect(sorted(stamped!.tokens)).toEqual(sorted([t1, t2]));
  });

  it("firstCovering: the smallest stamped checkpoint containing the leaf; latestStamped: the largest", async () => {
    const s = await make();
    const o = "kakunin.test/log/b";
    const cps = await Promise.all(
      [3, 10, 6, 2 ** 33].map(async (n) =>
        (await checkpointCovering(0, 4, o)).checkpointText.replace("\n4\n", `\n${n}\n`),
      ),
    );
    for (const [i, cp] of cps.entries())
      await s.add(cp, [token("http://tsa1.example/", `0${i}`, "2026-12-03T09:00:00Z")]);
    // A checkpoint without tokens is not stamped.
    await s.add((await checkpointCovering(0, 1, o)).checkpointText, []);
    const size = async (leaf: number) => (await s.firstCovering(o, leaf))?.size;
    expect([await size(0), await size(2), await size(3), await size(5), await size(6), await size(9)]).toEqual([
      3, 3, 6, 6, 10, 10,
    ]);
    expect(await size(10)).toBe(2 ** 33);
    expect(await s.firstCovering(o, 2 ** 33)).toBeUndefined();
    expect((await s.firstCovering(o, 4))?.text).toBe(cps[2]);
    expect((await s.firstCovering(o, 4))?.tokens.map((t) => t.serialNumber)).toEqual(["02"]);
    expect((await s.latestStamped(o))?.size).toBe(2 ** 33);
    expect(await s.latestStamped("kakunin.test/log/none")).toBeUndefined();
    expect(await s.firstCovering("kakunin.test/log/none", 0)).toBeUndefined();
  });

  it("refuses a text that is not a checkpoint, storing nothing", async () => {
    const s = await make();
    await expect(
      s.add("not a checkpoint\n", [token("http://tsa1.example/", "99", "2026-12-03T09:00:00Z")]),
    ).rejects.toThrow();
    expect(await s.tokensFor("not a checkpoint\n")).toEqual([]);
  });
}

describe("CheckpointTimestampStore: memory", () => contract(async () => new MemoryTimestampStore()));

const kinds = await databaseKinds("checkpoint timestamp store");
describe.each(kinds)("CheckpointTimestampStore: database on %s", (kind) => {
  let db: Awaited<ReturnType<typeof migratedDb>>;
  beforeAll(async () => {
    db = await migratedDb(kind);
  });
  afterAll(async () => db?.close());

  // The cases share one database and use distinct origins; the store is typed against the interface.
  contract(async () => new KyselyTimestampStore(db.handle.db) satisfies CheckpointTimestampStore);

  it("is seen by another connection to the same database", async () => {
    const cp = (await checkpointCovering(0, 5, "kakunin.test/log/c")).checkpointText;
    const t = token("http://tsa1.example/", "0c", "2026-12-03T09:00:00Z");
    await new KyselyTimestampStore(db.handle.db).add(cp, [t]);
    const other = await createDb(db.url);
    try {
      expect(sorted(await new KyselyTimestampStore(other.db).tokensFor(cp))).toEqual(sorted([t]));
    } finally {
      await other.close();
    }
  });
});
