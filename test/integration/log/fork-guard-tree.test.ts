/**
 * The fork guard's log v2 side (server/log/fork-guard/) on real SQLite and PostgreSQL databases,
 * every branch of its evidence: one archive (a temp folder) and several databases standing for the
 * one whose notes were published, a rolled-back copy, and copies that grew another history. Notes are signed with an
 * Ed25519 key of node:crypto here (the KMS path is `test/integration/scale/restore-v2.test.ts`).
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acknowledgeFork } from "../../../server/log/fork-guard/acknowledge.js";
import { ForkArchive } from "../../../server/log/fork-guard/archive.js";
import type { ForkReport } from "../../../server/log/fork-guard/fork-report.js";
import { ForkGuard } from "../../../server/log/fork-guard/guard.js";
import { TreeArchive } from "../../../server/log/fork-guard/tree-archive.js";
import type { TreeEvidenceSources } from "../../../server/log/fork-guard/tree-evidence.js";
import { KyselyLogStore } from "../../../server/log/storage/kysely-store.js";
import { TreeCheckpointPublisher } from "../../../server/log/tree/checkpoint-publisher.js";
import { fixedCheckpointKeys } from "../../../server/log/tree/log-key.js";
import {
  base64Decode,
  checkSplitView,
  formatCheckpoint,
  formatVerifierKey,
  parseVerifierKey,
  signNote,
  type Bytes,
} from "../../../verifier/src/formats/index.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { migratedLogStore } from "../../helpers/store-db.js";
import { syntheticEntry } from "../../helpers/synthetic-entry.js";

const ISSUER = "iss_fork";
const ORIGIN = `log.test/${ISSUER}`;
const key = generateKeyPairSync("ed25519");
const publicKey = new Uint8Array(key.publicKey.export({ format: "der", type: "spki" }).subarray(12));
const signFn = async (m: Uint8Array) => new Uint8Array(sign(null, m, key.privateKey));
const signTree = (size: number, root: Uint8Array) =>
  signNote(formatCheckpoint({ origin: ORIGIN, size, root: root as Bytes, extensions: [] }), ORIGIN, publicKey, signFn);

const entry = (seq: number, prevHash: string, history: string) =>
  syntheticEntry({ issuer: ISSUER, seq, prevHash, salt: history, time: "2026-12-03T10:00:00.000Z" });

const kinds = await databaseKinds("fork guard on log v2");
let currentKind: (typeof kinds)[number] = "sqlite";

type Opened = Awaited<ReturnType<typeof migratedLogStore>>;
const opened: Opened[] = [];

/** A database holding `n` entries: the first `shared` of the common history, the rest of `history`. */
async function database(n: number, shared: number, history: string, notesAt: number[]): Promise<KyselyLogStore> {
  const db = await migratedLogStore(currentKind, [ISSUER]);
  const store = db.store;
  opened.push(db);
  for (let i = 0; i < n; i++) {
    const head = await store.head(ISSUER);
    const e = entry(i, head.head, i < shared ? "common" : history);
    await (
      await store.commitBatch(ISSUER, head, [{ entry: e }])
    ).durable;
    if (notesAt.includes(i + 1)) {
      const t = (await store.treeNodes(ISSUER).head())!;
      await store.storeTreeCheckpoint(ISSUER, t.size, await signTree(t.size, t.root), "t");
    }
  }
  return store;
}

let dir: string;
let archiveDir: string;
let published: KyselyLogStore;
const sources = (sign: boolean): TreeEvidenceSources => ({
  origin: () => ORIGIN,
  logKeys: async (o) => [await parseVerifierKey(await formatVerifierKey(o, publicKey))],
  ...(sign ? { signNote: (_i: string, size: number, root: Uint8Array) => signTree(size, root) } : {}),
});
const guardOn = (store: KyselyLogStore, sign = false, logged: object[] = []) =>
  new ForkGuard({
    store,
    archive: new ForkArchive(archiveDir),
    logger: { error: (o: object) => logged.push(o), info() {} },
    tree: { archive: new TreeArchive(archiveDir), evidence: sources(sign) },
  });
const logKeys = async () => [await parseVerifierKey(await formatVerifierKey(ORIGIN, publicKey))];

describe.each(kinds)("on %s", (kind) => {
  beforeAll(async () => {
    currentKind = kind;
    dir = mkdtempSync(join(tmpdir(), "kakunin-fork-guard-tree-"));
    archiveDir = join(dir, "witness");
    // The database whose notes were published (sizes 3 and 5), archived through the guard's hook.
    published = await database(5, 5, "common", [3, 5]);
    const guard = guardOn(published);
    for (const size of [3, 5]) guard.treeHook.onCheckpoint((await published.treeCheckpointAt(ISSUER, size))!);
    await guard.settled();
  }, 60_000);
  afterAll(async () => {
    for (const o of opened.splice(0)) await o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("ForkGuard on log v2", () => {
    it("the database whose notes were archived agrees (and a note already archived is not archived twice)", async () => {
      const guard = guardOn(published);
      expect(await guard.checkAll()).toEqual([]);
      guard.treeHook.onCheckpoint((await published.treeCheckpointAt(ISSUER, 5))!);
      await guard.settled();
      expect(await new TreeArchive(archiveDir).baseline(ISSUER)).toMatchObject({ size: 5, from: "checkpoint" });
      // A copy that grew on from the archived size reproduces its root from the stored nodes: no fork.
      const grown = await database(9, 9, "common", []);
      expect(await guardOn(grown).status(ISSUER, true)).toBeUndefined();
    });

    it("a rolled-back copy without a note of its own: frozen; the evidence is the archived note and the database's size", async () => {
      const logged: object[] = [];
      const guard = guardOn(await database(2, 2, "common", []), false, logged);
      const frozen = await guard.checkAll();
      expect(frozen).toHaveLength(1);
      expect(frozen[0]!.problem).toMatch(
        /^log v2: the database's Merkle tree holds 2 leaves but a published checkpoint covers 5/,
      );
      const r = guard.report(ISSUER)!;
      expect(r.tree).toMatchObject({
        archived: { size: 5, from: "checkpoint", note: (await published.treeCheckpointAt(ISSUER, 5))!.note },
        database: { size: 2, rootAtArchivedSize: null, note: null, noteSource: null },
        splitView: null,
        conclusive: false,
      });
      await expect(guard.check(ISSUER)).rejects.toMatchObject({ code: "ERR_CHAIN_FORK_SUSPECTED", status: 503 });
      expect(logged.some((o) => "fork" in o)).toBe(true);
    });

    it("a rolled-back copy with its own older note: not shown consistent (proof-missing), both notes in the evidence", async () => {
      const guard = guardOn(await database(3, 3, "common", [3]));
      await guard.checkAll();
      const t = guard.report(ISSUER)!.tree!;
      expect(t).toMatchObject({
        reason: "proof-missing",
        conclusive: false,
        database: { noteSource: "latest", size: 3 },
      });
      expect(t.splitView).toContain(t.archived.note!);
      expect(t.splitView).toContain(t.database.note!);
    });

    it("another history with a note of the archived size: two roots at one size, conclusive", async () => {
      const guard = guardOn(await database(7, 2, "other", [5, 7]));
      const reports: ForkReport[] = [];
      guard.onFork((r) => reports.push(r));
      await guard.checkAll();
      const t = guard.report(ISSUER)!.tree!;
      expect(t).toMatchObject({ reason: "different-roots", conclusive: true, database: { noteSource: "stored" } });
      expect(await checkSplitView(t.archived.note!, t.database.note!, await logKeys())).toMatchObject({
        consistent: false,
        conclusive: true,
        evidence: t.splitView,
      });
      // Listeners get each report once; one added later gets the ones already made.
      const late: ForkReport[] = [];
      guard.onFork((r) => late.push(r));
      expect(reports).toHaveLength(1);
      expect(late).toEqual(reports);
    });

    it("the publisher signs nothing for a frozen issuer (it asks the guard first)", async () => {
      const store = await database(7, 2, "fifth", [5]);
      const guard = guardOn(store);
      await guard.checkAll();
      let signed = 0;
      const publisher = new TreeCheckpointPublisher({
        store,
        signer: { signEd25519: async (_arn, m) => (signed++, signFn(m)) },
        keys: fixedCheckpointKeys({ arn: "arn:test", publicKey }),
        logName: "log.test",
        intervalMs: 0,
        hooks: [],
        now: () => new Date(),
        refuse: (id) => guard.status(id),
      });
      expect((await publisher.publish(ISSUER))?.size).toBe(5);
      expect(signed).toBe(0);
      await publisher.close();
    });

    it("another history without a note of that size: signed now when the log key can sign, else its latest note with its own proof", async () => {
      const signing = guardOn(await database(7, 2, "third", [7]), true);
      await signing.checkAll();
      expect(signing.report(ISSUER)!.tree).toMatchObject({
        reason: "different-roots",
        conclusive: true,
        database: { noteSource: "signed" },
      });

      const store = await database(7, 2, "fourth", [7]);
      const plain = guardOn(store);
      await plain.checkAll();
      const t = plain.report(ISSUER)!.tree!;
      expect(t).toMatchObject({ reason: "proof-invalid", conclusive: false, database: { noteSource: "latest" } });
      const proof = t.proof!.map((h) => base64Decode(h, "proof"));
      expect(await checkSplitView(t.archived.note!, t.database.note!, await logKeys(), proof)).toMatchObject({
        consistent: false,
        reason: "proof-invalid",
      });
      expect(await plain.status(ISSUER)).toBe(plain.report(ISSUER)!.problem);

      // The operator acknowledges: the tree archive's baseline becomes this database's tree, and it agrees.
      const ack = await acknowledgeFork(store, plain.archive, ISSUER, "test", new Date(), plain.treeArchive);
      expect(ack.tree).toMatchObject({ abandoned: { size: 5 }, resumedAt: { size: 7 } });
      plain.forget(ISSUER);
      expect(await plain.status(ISSUER, true)).toBeUndefined();
      expect(plain.report(ISSUER)).toBeUndefined();
      // …and the database that was published now disagrees with the acknowledged baseline.
      expect(await guardOn(published).status(ISSUER, true)).toMatch(/acknowledged fork baseline/);
    });
  });
});
