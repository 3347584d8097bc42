/**
 * Log v2 over real HTTP from a real server process (real local KMS, SQLite and PostgreSQL), read by
 * a client written only from the C2SP specs with the browser-safe primitives (no server code): it
 * fetches the signed-note checkpoint, verifies its Ed25519 signature (WebCrypto) under the
 * published vkey, fetches hash tiles and entry bundles, recomputes the root, and checks an
 * inclusion proof and a consistency proof between two checkpoints it kept. Plus what an attacker
 * or a careless client sends: tampered notes, paths beyond the tree, malformed paths, no token.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildProof, consistencyPlan, decodeEntryBundle, entryLeafData, hashChildren, hashLeaf, inclusionPlan, openNote,
  parseCheckpoint, parseVerifierKey, rootFromNodes, rootOfLeafHashes, tilePath, tilesForSize, verifyConsistency,
  verifyInclusion, type NodeId, type NodeReader,
} from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { httpCaller, parseExport, setupIssuer, testDatabase, type Call } from "../log/fixture.js";

let kms: LocalKms;
beforeAll(async () => {
  kms = await startLocalKms();
});
afterAll(async () => {
  await kms?.stop();
});

async function appendMany(call: Call, agents: { id: string; token: string }[], n: number, tag: string): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let k = next++; k < n; k = next++) {
      const a = agents[k % agents.length]!;
      const r = await call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { tag, k } } });
      expect(r.status).toBe(201);
    }
  }));
}

/** A node reader over fetched tiles: level-8·L nodes straight from tile L, the levels between hashed up from them. */
function tileReader(tiles: Map<string, Uint8Array>): NodeReader {
  const node = async (level: number, index: number): Promise<Uint8Array> => {
    if (level % 8 === 0) {
      const t = tiles.get(`${level / 8}/${Math.floor(index / 256)}`);
      const at = (index % 256) * 32;
      if (!t || t.length < at + 32) throw new Error(`no tile holds node ${level}/${index}`);
      return t.slice(at, at + 32);
    }
    return hashChildren(await node(level - 1, 2 * index), await node(level - 1, 2 * index + 1));
  };
  return { readNodes: (ids: readonly NodeId[]) => Promise.all(ids.map((id) => node(id.level, id.index))) };
}

const KINDS = await databaseKinds("tree/tlog-http");

for (const kind of KINDS) describe(`[${kind}]`, () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    database = await testDatabase(kind);
    server = await startServer({ kmsEndpoint: kms.endpoint, env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "200", ...database.env } });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it("a spec-only client verifies the checkpoint, the tiles, an inclusion and a consistency proof", async () => {
    const url = server!.url;
    const call = httpCaller(url);
    const iss = await setupIssuer(call, server!.operatorToken, 3, "Tiles Inc");
    const prefix = `${url}/v1/public/issuers/${iss.issuerId}/tlog`;
    const vkey = await parseVerifierKey((await (await fetch(`${prefix}/vkey`)).text()).trimEnd());

    /** Polls the checkpoint until it covers `size`; returns the verified note and its body. */
    const checkpointAt = async (size: number) => {
      const until = Date.now() + 20_000;
      for (;;) {
        const res = await fetch(`${prefix}/checkpoint`);
        if (res.status === 200) {
          expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
          const note = await res.text();
          const opened = await openNote(note, [vkey]); // Ed25519 via WebCrypto; throws unless the vkey signed it
          expect(opened.verified.map((s) => s.name)).toEqual([vkey.name]);
          const cp = parseCheckpoint(opened.text);
          expect(cp.origin).toBe(vkey.name);
          if (cp.size === size) return { note, cp };
          expect(cp.size).toBeLessThan(size);
        } else expect(res.status).toBe(404);
        if (Date.now() > until) throw new Error(`no checkpoint of size ${size}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    await appendMany(call, iss.agents, 40, "first");
    const old = await checkpointAt(43); // 3 registrations + 40 operations
    await appendMany(call, iss.agents, 260, "second");
    const { note, cp } = await checkpointAt(303);

    // Tiles for that size, as the spec lists them: level 0 (one full, one partial of 47), level 1 (partial of 1), entries.
    const wanted = tilesForSize(cp.size);
    expect(wanted.map(tilePath)).toEqual(["tile/0/000", "tile/0/001.p/47", "tile/1/000.p/1", "tile/entries/000", "tile/entries/001.p/47"]);
    const tiles = new Map<string, Uint8Array>();
    const bundles: Uint8Array[][] = [];
    for (const t of wanted) {
      const res = await fetch(`${prefix}/${tilePath(t)}`, t.level === "entries" ? { headers: { authorization: `Bearer ${iss.issuerToken}` } } : {});
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/octet-stream");
      expect(res.headers.get("cache-control")).toMatch(/max-age=31536000, immutable/);
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (t.level === "entries") bundles.push(decodeEntryBundle(bytes));
      else {
        expect(bytes.length).toBe(32 * t.width);
        tiles.set(`${t.level}/${t.index}`, bytes);
      }
    }
    // Root from the tiles alone, and from the entry bundles' leaves: both the checkpoint's root.
    const reader = tileReader(tiles);
    expect(Buffer.from(await rootFromNodes(cp.size, reader)).toString("base64")).toBe(Buffer.from(cp.root).toString("base64"));
    const leaves = await Promise.all(bundles.flat().map((d) => hashLeaf(d)));
    expect(leaves.length).toBe(cp.size);
    expect(Buffer.from(await rootOfLeafHashes(leaves)).equals(Buffer.from(cp.root))).toBe(true);

    // The entries in the bundles are the exported entries (FORMATS.md leaf data), and one of them is provably included.
    const exp = parseExport((await call("GET", "/v1/log/export", { token: iss.issuerToken })).text);
    const i = 271;
    const data = entryLeafData(exp.entries[i]);
    expect(Buffer.from(bundles.flat()[i]!).equals(Buffer.from(data))).toBe(true);
    const proof = await buildProof(inclusionPlan(i, cp.size), reader);
    await verifyInclusion(i, cp.size, await hashLeaf(data), proof, cp.root);
    const forged = entryLeafData({ ...exp.entries[i], payloadHash: "0".repeat(64) });
    await expect(verifyInclusion(i, cp.size, await hashLeaf(forged), proof, cp.root)).rejects.toThrow();

    // The tree of today extends the one the client kept.
    const cproof = await buildProof(consistencyPlan(old.cp.size, cp.size), reader);
    await verifyConsistency(old.cp.size, cp.size, old.cp.root, cp.root, cproof);
    await expect(verifyConsistency(old.cp.size, cp.size, cp.root, cp.root, cproof)).rejects.toThrow();

    // A tampered checkpoint (size or root changed, signature kept) does not verify.
    await expect(openNote(note.replace("\n303\n", "\n304\n"), [vkey])).rejects.toThrow();
    const other = await setupIssuer(call, server!.operatorToken, 0, "Other");
    const otherKey = await parseVerifierKey((await (await fetch(`${url}/v1/public/issuers/${other.issuerId}/tlog/vkey`)).text()).trimEnd());
    await expect(openNote(note, [otherKey])).rejects.toThrow(); // another log's key does not vouch for this one
  });

  it("answers bad tile requests with typed errors and never serves beyond the tree", async () => {
    const url = server!.url;
    const call = httpCaller(url);
    const iss = await setupIssuer(call, server!.operatorToken, 1, "Edges");
    await appendMany(call, iss.agents, 9, "e"); // 10 entries
    const prefix = `${url}/v1/public/issuers/${iss.issuerId}/tlog`;
    const until = Date.now() + 20_000;
    while (!(await (await fetch(`${prefix}/checkpoint`)).text()).includes("\n10\n")) {
      if (Date.now() > until) throw new Error("no checkpoint of 10");
      await new Promise((r) => setTimeout(r, 50));
    }
    const get = async (path: string, token?: string) => {
      const res = await fetch(`${prefix}/${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      return { status: res.status, body: res.headers.get("content-type")?.includes("json") ? await res.json() : undefined };
    };
    expect((await get("tile/0/000.p/10")).status).toBe(200);
    expect((await get("tile/0/000.p/11")).body.code).toBe("ERR_TILE_NOT_FOUND"); // beyond the tree
    expect((await get("tile/0/000")).status).toBe(404); // full tile not there yet
    expect((await get("tile/1/000.p/1")).status).toBe(404);
    expect((await get("tile/entries/000.p/11", iss.issuerToken)).status).toBe(404);
    for (const bad of ["tile/0/0", "tile/00/000", "tile/0/000.p/256", "tile/0/000.p/0", "tile/64/000", "tile/0/x000/001", "tile/0/000.p/01", "tile/entries/000.p/x"]) {
      const r = await get(bad);
      expect(r.status, bad).toBe(400);
    }
    // Entry bundles: the issuer's token, not another's, not none.
    expect((await get("tile/entries/000.p/10")).status).toBe(401);
    const stranger = await setupIssuer(call, server!.operatorToken, 0, "Stranger");
    expect((await get("tile/entries/000.p/10", stranger.issuerToken)).status).toBe(403);
    expect((await get("tile/entries/000.p/10", iss.issuerToken)).status).toBe(200);
    // Unknown issuer: 404; no checkpoint yet: 404 ERR_NO_CHECKPOINT.
    expect((await fetch(`${url}/v1/public/issuers/iss_${"0".repeat(32)}/tlog/tile/0/000.p/1`)).status).toBe(404);
    const empty = await fetch(`${url}/v1/public/issuers/${stranger.issuerId}/tlog/checkpoint`);
    expect(empty.status).toBe(404);
    expect((await empty.json()).code).toBe("ERR_NO_CHECKPOINT");
  });

  it("serves the stored checkpoint and tiles while KMS hangs (reads never wait on KMS)", async () => {
    const iss = await setupIssuer(httpCaller(server!.url), server!.operatorToken, 1, "Frozen");
    const prefix = `${server!.url}/v1/public/issuers/${iss.issuerId}/tlog`;
    const until = Date.now() + 20_000;
    let note = "";
    while (!note.includes("\n1\n")) {
      if (Date.now() > until) throw new Error("no checkpoint of 1");
      const res = await fetch(`${prefix}/checkpoint`);
      note = res.status === 200 ? await res.text() : "";
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(kms.pid, "SIGSTOP");
    try {
      const res = await fetch(`${prefix}/checkpoint`, { signal: AbortSignal.timeout(3000) });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(note);
      expect((await fetch(`${prefix}/tile/0/000.p/1`, { signal: AbortSignal.timeout(3000) })).status).toBe(200);
    } finally {
      process.kill(kms.pid, "SIGCONT");
    }
  });
});
