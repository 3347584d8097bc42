/**
 * The LogStore contract (server/log/storage/) on real SQLite (a WAL file, so commits go through the
 * deferred WAL sync) and PostgreSQL: head compare-and-swap, the chain lock, keyset-paged reads
 * across page boundaries, payload erasure, checkpoints. The entries are stored as given (the store
 * does not verify chains: the appender builds them; test/integration/log checks them end to end).
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KyselyLogStore } from "../../../server/log/storage/kysely-store.js";
import { ChainConflictError, type ChainHead, type CommitItem } from "../../../server/log/storage/log-store.js";
import { EXPORT_PAGE } from "../../../server/log/tuning.js";
import type { Checkpoint, EntryType, LogEntry } from "../../../server/log/types.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { migratedLogStore } from "../../helpers/store-db.js";

const ISSUER = "iss_store";
const ZEROS = "0".repeat(64);

/** Entries seq from..to-1 chained on `prev`; every 7th is a lifecycle entry naming a certificate, every 3rd has a payload. */
function items(from: number, to: number, prev: string): CommitItem[] {
  const out: CommitItem[] = [];
  for (let seq = from; seq < to; seq++) {
    const type: EntryType = seq % 7 === 0 ? "agent.registered" : "agent.operation";
    const hash = createHash("sha256").update(`${seq}:${prev}`).digest("hex");
    const entry: LogEntry = {
      v: 1,
      seq,
      time: `2026-12-02T18:00:00.${String(seq % 1000).padStart(3, "0")}Z`,
      type,
      issuer: ISSUER,
      agent: `agt_${seq % 5}`,
      signer: { cert: seq % 2 ? "0a" : "0b", key: "arn:k", alg: "RSASSA_PSS_SHA_256" },
      payloadHash: "ab".repeat(32),
      prevHash: prev,
      ...(type === "agent.registered" ? { details: { cert: `c${seq}` } } : {}),
      hash,
      sig: "c2ln",
    };
    const kmsRequestId = `req-${seq}`;
    out.push(
      seq % 3 === 0
        ? { entry, kmsRequestId, payload: { kind: "json", data: Buffer.from(`{"n":${seq}}`) } }
        : { entry, kmsRequestId },
    );
    prev = hash;
  }
  return out;
}

const kinds = await databaseKinds("log store");

describe.each(kinds)("LogStore on %s", (kind) => {
  let opened: Awaited<ReturnType<typeof migratedLogStore>>;
  let store: KyselyLogStore;
  let head: ChainHead;
  const N = EXPORT_PAGE * 2 + 17; // three pages

  beforeAll(async () => {
    opened = await migratedLogStore(kind, [ISSUER]);
    store = opened.store;
  });

  afterAll(async () => {
    await opened?.close();
  });

  it("starts empty, commits batches on the head with a compare-and-swap, and refuses a stale head", async () => {
    expect(store.locksChains).toBe(kind === "postgres");
    const empty = await store.head(ISSUER);
    expect(empty).toEqual({ size: 0, head: ZEROS, time: "" });
    const first = items(0, 300, ZEROS);
    const c = await store.commitBatch(ISSUER, empty, first);
    await c.durable;
    expect(c.head).toEqual({ size: 300, head: first[299]!.entry.hash, time: first[299]!.entry.time });
    await expect(store.commitBatch(ISSUER, empty, items(0, 1, ZEROS))).rejects.toBeInstanceOf(ChainConflictError);
    await expect(store.commitBatch(ISSUER, { ...c.head, head: ZEROS }, items(300, 301, ZEROS))).rejects.toBeInstanceOf(
      ChainConflictError,
    );
    // Under the chain lock: the head is read inside the transaction, the write goes onto it.
    head = await store.withChainLock(ISSUER, async (chain) => {
      expect(chain.head).toEqual(c.head);
      return chain.write(items(300, N, c.head.head));
    });
    await store.flushed();
    expect(head.size).toBe(N);
    expect(await store.head(ISSUER)).toEqual(head);
    expect(await store.chainSizes()).toEqual([{ issuerId: ISSUER, size: N }]);
  });

  it("on PostgreSQL a second batch waits for the chain lock instead of colliding", async () => {
    if (kind !== "postgres") return;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const first = store.withChainLock(ISSUER, async (chain) => {
      entered();
      await held;
      return chain.waited;
    });
    await inside;
    const second = store.withChainLock(ISSUER, async (chain) => chain.waited);
    await new Promise((r) => setTimeout(r, 100));
    release();
    expect(await first).toBe(false);
    expect(await second).toBe(true);
  });

  it("reads entries by range and seq, and lifecycle entries of an agent in order", async () => {
    const page = await store.entries(ISSUER, 10, 12);
    expect(page.map((e) => e.seq)).toEqual([10, 11, 12]);
    expect((await store.entry(ISSUER, 14))?.details).toEqual({ cert: "c14" });
    expect(await store.entry(ISSUER, N)).toBeUndefined();
    expect(await store.entryHash(ISSUER, 0)).toBe(items(0, 1, ZEROS)[0]!.entry.hash);
    expect(await store.entryHash(ISSUER, N)).toBeUndefined();
    // agent agt_0 registered at seq 0, 35, 70, … (multiples of 7 and 5)
    const registered = await store.lifecycleEntries(ISSUER, "agent.registered", "agt_0");
    expect(registered.map((e) => e.seq)).toEqual(Array.from({ length: Math.ceil(N / 35) }, (_, i) => i * 35));
    expect((await store.signerSerials(ISSUER, 0, N - 1)).sort()).toEqual(["0a", "0b"]);
    expect(await store.signerSerials(ISSUER, 1, 1)).toEqual(["0a"]);
  });

  it("finds entries by KMS request id from a time on (reconciliation), never an older one", async () => {
    const found = await store.entriesByKmsRequestId(["req-5", "req-6", "req-none"], "2026-12-02T17:00:00.000Z");
    expect(found.sort((a, b) => a.seq - b.seq)).toEqual([
      { requestId: "req-5", issuerId: ISSUER, seq: 5, agentId: "agt_0", keyArn: "arn:k" },
      { requestId: "req-6", issuerId: ISSUER, seq: 6, agentId: "agt_1", keyArn: "arn:k" },
    ]);
    // seq 6 is dated .006: from then on seq 5 is not looked at
    expect(
      (await store.entriesByKmsRequestId(["req-5", "req-6"], "2026-12-02T18:00:00.006Z")).map((e) => e.seq),
    ).toEqual([6]);
    expect(await store.entriesByKmsRequestId(["req-5"], "2026-12-02T18:00:01.000Z")).toEqual([]);
  });

  it("pages lifecycle entries and export rows by keyset, across page boundaries, with payloads when asked", async () => {
    const lifecycle: number[] = [];
    for await (const p of store.lifecyclePages(ISSUER, 3, N - 1)) lifecycle.push(...p.map((e) => e.seq));
    expect(lifecycle).toEqual(Array.from({ length: N }, (_, s) => s).filter((s) => s >= 3 && s % 7 === 0));

    const pages: number[] = [];
    const seqs: number[] = [];
    let withPayload = 0;
    for await (const rows of store.exportPages(ISSUER, 1, N - 1, true)) {
      pages.push(rows.length);
      for (const r of rows) {
        seqs.push(r.seq);
        expect(JSON.parse(r.body).seq).toBe(r.seq);
        if (r.kind) {
          withPayload++;
          expect(r.kind).toBe("json");
          expect(Buffer.from(r.data!).toString()).toBe(`{"n":${r.seq}}`);
        } else expect(r.seq % 3).not.toBe(0);
      }
    }
    expect(pages).toEqual([EXPORT_PAGE, EXPORT_PAGE, N - 1 - 2 * EXPORT_PAGE]);
    expect(seqs).toEqual(Array.from({ length: N - 1 }, (_, i) => i + 1));
    expect(withPayload).toBe(seqs.filter((s) => s % 3 === 0).length);
    for await (const rows of store.exportPages(ISSUER, 0, 2, false))
      expect(rows.map((r) => [r.seq, r.kind])).toEqual([
        [0, undefined],
        [1, undefined],
        [2, undefined],
      ]);
  });

  it("erases a payload once, leaves the entry, and tells a missing entry apart", async () => {
    expect(await store.erasePayload(ISSUER, 3)).toEqual({ entry: true, erased: true });
    expect(await store.erasePayload(ISSUER, 3)).toEqual({ entry: true, erased: false });
    expect(await store.erasePayload(ISSUER, N + 5)).toEqual({ entry: false, erased: false });
    expect((await store.entry(ISSUER, 3))?.seq).toBe(3);
    for await (const rows of store.exportPages(ISSUER, 3, 3, true)) expect(rows[0]!.kind ?? null).toBeNull();
  });

  it("stores checkpoints once per size and finds the latest, exact and below", async () => {
    const cp = (size: number, sig: string): Checkpoint => ({
      issuer: ISSUER,
      size,
      head: `h${size}`,
      time: "2026-12-02T18:00:00.000Z",
      signer: { cert: "01", key: "arn:log", alg: "RSASSA_PSS_SHA_256" },
      sig,
    });
    expect(await store.latestCheckpoint(ISSUER)).toBeUndefined();
    await store.storeCheckpoint(cp(10, "first"));
    await store.storeCheckpoint(cp(10, "second")); // another process signed the same size: the stored one stays
    await store.storeCheckpoint(cp(40, "x"));
    await store.storeCheckpoint(cp(25, "y"));
    expect((await store.checkpointOfSize(ISSUER, 10))?.sig).toBe("first");
    expect(await store.checkpointOfSize(ISSUER, 11)).toBeUndefined();
    expect((await store.latestCheckpoint(ISSUER))?.size).toBe(40);
    expect((await store.latestCheckpointBelow(ISSUER, 40))?.size).toBe(25);
    expect(await store.latestCheckpointBelow(ISSUER, 10)).toBeUndefined();
    expect(await store.latestCheckpointSizes()).toEqual(new Map([[ISSUER, 40]]));
    expect(await store.issuerExists(ISSUER)).toBe(true);
    expect(await store.issuerExists("iss_nobody")).toBe(false);
  });
});
