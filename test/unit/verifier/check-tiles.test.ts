/**
 * `checkTiles` (verifier/src/checks/tiles), the browser-safe core of `kakunin-verify tiles`, over an
 * in-memory published log (test/helpers/witness-tree.ts: a real RFC 9162 tree, WebCrypto Ed25519
 * keys): three tile levels, the partial-tile fallback of tlog-tiles, tiles not served, a witness
 * policy, the empty tree, --since against a fork, and the trust errors.
 */
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { checkTiles, type FetchTile } from "../../../verifier/src/checks/tiles/index.js";
import {
  encodeEntryBundle,
  formatCheckpoint,
  parsePolicy,
  parseTilePath,
  tileNodes,
  type Bytes,
} from "../../../verifier/src/formats/index.js";
import { cosignerKey, type CosignerKey } from "../../helpers/witness-keys.js";
import { MerkleTestLog } from "../../helpers/witness-tree.js";

/** Serves `log` as tlog-tiles at `size` (what a static copy of that checkpoint holds); `tweak` rewrites one answer. */
function served(
  log: MerkleTestLog,
  size: number,
  tweak: (path: string, bytes: Uint8Array | undefined) => Uint8Array | undefined = (_, b) => b,
): FetchTile & { paths: string[] } {
  const paths: string[] = [];
  const f = async (path: string) => {
    paths.push(path);
    const t = parseTilePath(path);
    let bytes: Uint8Array | undefined;
    const start = t.index * 256;
    if (t.level === "entries") {
      if (start + t.width <= size)
        bytes = encodeEntryBundle(
          Array.from({ length: t.width }, (_, i) => new TextEncoder().encode(`entry ${start + i}`)),
        );
    } else if ((t.index * 256 + t.width) * 256 ** t.level <= size) {
      const hs = await log.reader.readNodes(tileNodes(t));
      bytes = new Uint8Array(hs.length * 32);
      hs.forEach((h, i) => bytes!.set(h, i * 32));
    }
    return tweak(path, bytes);
  };
  return Object.assign(f, { paths });
}

/** The CLI's kind of hasher (node:crypto, synchronous): must decide exactly as the WebCrypto default. */
const nodeHasher = {
  leaf: (d: Uint8Array) => new Uint8Array(createHash("sha256").update(Uint8Array.of(0)).update(d).digest()),
  children: (l: Uint8Array, r: Uint8Array) =>
    new Uint8Array(createHash("sha256").update(Uint8Array.of(1)).update(l).update(r).digest()),
};

const flip = (b: Uint8Array, at: number) => {
  const c = new Uint8Array(b);
  c[at]! ^= 1;
  return c;
};

let big: MerkleTestLog;
let small: MerkleTestLog;
let w1: CosignerKey;

beforeAll(async () => {
  big = await (await MerkleTestLog.create("log.example/big")).grow(65536 + 5);
  small = await (await MerkleTestLog.create("log.example/small")).grow(512);
  w1 = await cosignerKey("w1.example/witness");
}, 120_000);

describe("checkTiles", () => {
  it("PASSED on three tile levels (256 full level-0 tiles, a full level-1 tile, a partial level-2 tile) with every entry", async () => {
    const fetchTile = served(big, big.size);
    const r = await checkTiles({
      fetchTile,
      checkpoint: await big.checkpoint(),
      logKeys: [big.key.key],
      entries: true,
    });
    expect(r.problems).toEqual([]);
    expect(r.verdict).toBe("PASSED");
    expect(r.counts).toEqual({ hashTiles: 259, entryBundles: 257, entries: 65541 });
    expect(fetchTile.paths).toContain("tile/2/000.p/1");
    expect(fetchTile.paths).toContain("tile/1/000");
    expect(r.steps.map((s) => [s.name, s.status])).toEqual([
      ["checkpoint signature", "passed"],
      ["hash tiles", "passed"],
      ["entry bundles", "passed"],
      ["root", "passed"],
    ]);
  }, 120_000);

  it("a changed hash in level 1 or level 2 is named, one level up from the tile it fails against", async () => {
    const l1 = await checkTiles({
      fetchTile: served(big, big.size, (p, b) => (p === "tile/1/000" ? flip(b!, 7 * 32) : b)),
      checkpoint: await big.checkpoint(),
      logKeys: [big.key.key],
    });
    const l1node = await checkTiles({
      fetchTile: served(big, big.size, (p, b) => (p === "tile/1/000" ? flip(b!, 7 * 32) : b)),
      checkpoint: await big.checkpoint(),
      logKeys: [big.key.key],
      hasher: nodeHasher,
      entries: true,
    });
    expect(l1node.problems).toEqual(l1.problems);
    expect(l1node.counts.entries).toBe(65541);
    expect(l1.problems.map((p) => [p.code, p.message])).toEqual([
      ["ERR_TILE", "tile/0/007 does not hash to hash 7 of tile/1/000: one of the two is not the log's"],
      ["ERR_TILE", "tile/1/000 does not hash to hash 0 of tile/2/000.p/1: one of the two is not the log's"],
    ]);
    const l2 = await checkTiles({
      fetchTile: served(big, big.size, (p, b) => (p === "tile/2/000.p/1" ? flip(b!, 0) : b)),
      checkpoint: await big.checkpoint(),
      logKeys: [big.key.key],
    });
    expect(l2.problems.map((p) => p.code)).toEqual(["ERR_TILE", "ERR_TREE_ROOT"]);
  }, 120_000);

  it("falls back to the full tile when a partial one is gone, and is INDETERMINATE when a tile is not served", async () => {
    // A copy grown to 512 answering for a checkpoint of 300: tile/0/001.p/44 is gone, tile/0/001 is there.
    const fetchTile = served(small, 512, (p, b) => (/^tile\/(0|entries)\/.*\.p\//.test(p) ? undefined : b));
    const r = await checkTiles({
      fetchTile,
      checkpoint: await small.checkpoint(300),
      logKeys: [small.key.key],
      entries: true,
    });
    expect([r.verdict, r.problems]).toEqual(["PASSED", []]);
    expect(fetchTile.paths).toEqual(expect.arrayContaining(["tile/0/001.p/44", "tile/0/001", "tile/entries/001"]));
    const gone = await checkTiles({
      fetchTile: served(small, 300, (p, b) => (p === "tile/0/000" ? undefined : b)),
      checkpoint: await small.checkpoint(300),
      logKeys: [small.key.key],
    });
    expect(gone.verdict).toBe("INDETERMINATE");
    expect(gone.problems).toEqual([
      expect.objectContaining({ code: "ERR_TILE", verdict: "INDETERMINATE", tile: "tile/0/000" }),
    ]);
    expect(gone.steps.find((s) => s.name === "root")?.status).toBe("passed"); // level 1 stands in for tile/0/000
    const edge = await checkTiles({
      fetchTile: served(small, 300, (p, b) => (p.startsWith("tile/0/001") ? undefined : b)),
      checkpoint: await small.checkpoint(300),
      logKeys: [small.key.key],
    });
    expect(edge.problems.map((p) => [p.verdict, p.tile])).toEqual([["INDETERMINATE", "tile/0/001.p/44"]]);
    expect(edge.steps.find((s) => s.name === "root")?.status).toBe("skipped");
    // The root stood, but the tree at a kept size inside the missing tile cannot be computed: not shown.
    const since = await checkTiles({
      fetchTile: served(small, 300, (p, b) => (p === "tile/0/000" ? undefined : b)),
      checkpoint: await small.checkpoint(300),
      logKeys: [small.key.key],
      since: await small.checkpoint(100),
    });
    expect(since.problems.map((p) => [p.verdict, p.code])).toEqual([
      ["INDETERMINATE", "ERR_TILE"],
      ["INDETERMINATE", "ERR_CONSISTENCY"],
    ]);
  });

  it("--policy: the witness quorum decides (met, missing → INDETERMINATE, a bad cosignature → FAILED)", async () => {
    const policy = await parsePolicy(`log ${small.vkey}\nwitness W1 ${w1.vkey}\nquorum W1\n`);
    const text = await small.text(300);
    const cosigned = (await small.checkpoint(300)) + (await w1.cosign(text));
    const ok = await checkTiles({ fetchTile: served(small, 300), checkpoint: cosigned, policy });
    expect(ok.verdict).toBe("PASSED");
    expect(ok.steps[1]).toMatchObject({ name: "witness quorum", status: "passed" });
    const missing = await checkTiles({
      fetchTile: served(small, 300),
      checkpoint: await small.checkpoint(300),
      policy,
    });
    expect(missing.verdict).toBe("INDETERMINATE");
    expect(missing.problems.map((p) => p.code)).toEqual(["ERR_WITNESS_QUORUM"]);
    const bad = (await small.checkpoint(300)) + (await w1.cosign(await small.text(299)));
    const r = await checkTiles({ fetchTile: served(small, 300), checkpoint: bad, policy });
    expect(r.problems.map((p) => [p.verdict, p.code])).toEqual([["FAILED", "ERR_COSIGNATURE"]]);
  });

  it("the empty tree needs no tiles; a size-0 checkpoint with another root is FAILED", async () => {
    const fetchTile = served(small, 0);
    const r = await checkTiles({ fetchTile, checkpoint: await small.checkpoint(0), logKeys: [small.key.key] });
    expect([r.verdict, fetchTile.paths]).toEqual(["PASSED", []]);
    const lie = await small.key.signNote(
      formatCheckpoint({ origin: small.origin, size: 0, root: new Uint8Array(32) as Bytes, extensions: [] }),
    );
    const bad = await checkTiles({ fetchTile, checkpoint: lie, logKeys: [small.key.key] });
    expect(bad.problems.map((p) => p.code)).toEqual(["ERR_TREE_ROOT"]);
  });

  it("--since: a kept checkpoint of this history passes; one of a fork is FAILED with both notes and the proof", async () => {
    const keep = await small.checkpoint(100);
    const r = await checkTiles({
      fetchTile: served(small, 300),
      checkpoint: await small.checkpoint(300),
      logKeys: [small.key.key],
      since: keep,
    });
    expect([r.verdict, r.since]).toEqual(["PASSED", expect.objectContaining({ size: 100, consistent: true })]);
    const fork = small.fork(50);
    await fork.grow(300);
    const forked = await fork.checkpoint(100);
    const f = await checkTiles({
      fetchTile: served(small, 300),
      checkpoint: await small.checkpoint(300),
      logKeys: [small.key.key],
      since: forked,
    });
    expect(f.problems.map((p) => [p.verdict, p.code])).toEqual([["FAILED", "ERR_CONSISTENCY"]]);
    expect(f.evidence).toContain(forked);
    expect(f.evidence).toContain(await small.checkpoint(300));
    expect(f.evidence).toMatch(/consistency proof 100 -> 300: \d+ hashes/);
    // Same size, two roots: the same finding.
    const same = await checkTiles({
      fetchTile: served(small, 300),
      checkpoint: await small.checkpoint(300),
      logKeys: [small.key.key],
      since: await fork.checkpoint(300),
    });
    expect(same.problems.map((p) => p.code)).toEqual(["ERR_CONSISTENCY"]);
  });

  it("trust: no key pinned is INDETERMINATE, another log's key FAILED, and nothing is fetched for either", async () => {
    const fetchTile = served(small, 300);
    const none = await checkTiles({ fetchTile, checkpoint: await small.checkpoint(300) });
    expect(none.problems.map((p) => [p.verdict, p.code])).toEqual([["INDETERMINATE", "ERR_LOG_KEY_NOT_PINNED"]]);
    const other = await checkTiles({ fetchTile, checkpoint: await small.checkpoint(300), logKeys: [big.key.key] });
    expect(other.problems.map((p) => [p.verdict, p.code])).toEqual([["FAILED", "ERR_LOG_SIGNATURE"]]);
    expect(fetchTile.paths).toEqual([]);
  });

  it("rejects with what the fetcher throws (the check could not be made)", async () => {
    const fetchTile: FetchTile = async (path) => {
      if (path === "tile/0/001.p/44") throw new Error("unreachable");
      return served(small, 300)(path, "hash");
    };
    await expect(
      checkTiles({ fetchTile, checkpoint: await small.checkpoint(300), logKeys: [small.key.key] }),
    ).rejects.toThrow("unreachable");
  });
});
