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
  parseTlogProof,
  buildProof,
  consistencyPlan,
  decodeEntryBundle,
  entryLeafData,
  hashChildren,
  hashLeaf,
  inclusionPlan,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  rootFromNodes,
  rootOfLeafHashes,
  tilePath,
  tilesForSize,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
  type NodeReader,
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
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let k = next++; k < n; k = next++) {
        const a = agents[k % agents.length]!;
        const r = await call("POST", `/v1/agents/${a.id}/operations`, {
          token: a.token,
          body: { payload: { tag, k } },
        });
        expect(r.status).toBe(201);
      }
    }),
  );
}

/** The issuer log's verifier key from GET /v1/public/log-keys (one line per log; the key name is the origin). */
async function logKey(url: string, issuerId: string) {
  const res = await fetch(`${url}/v1/public/log-keys`);
  expect(res.status).toBe(200);
  const lines = (await res.text()).split("\n").filter(Boolean);
  const line = lines.find((l) => l.split("+")[0]!.endsWith(`/${issuerId}`));
  if (!line) throw new Error(`no verifier key for ${issuerId} in ${lines.length} lines`);
  return parseVerifierKey(line);
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

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    let database: Awaited<ReturnType<typeof testDatabase>>;
    let server: RunningServer | undefined;

    beforeAll(async () => {
      database = await testDatabase(kind);
      server = await startServer({
        kmsEndpoint: kms.endpoint,
        env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "200", ...database.env },
      });
    });
    afterAll(async () => {
      await server?.stop();
      await database?.drop();
    });

    it("a spec-only client verifies the checkpoint, the tiles, an inclusion and a consistency proof", async () => {
      const url = server!.url;
      const call = httpCaller(url);
      const iss = await setupIssuer(call, server!.operatorToken, 3, "Tiles Inc");
      const prefix = `${url}/v1/logs/${iss.issuerId}`;
      const vkey = await logKey(url, iss.issuerId);

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
      expect(wanted.map(tilePath)).toEqual([
        "tile/0/000",
        "tile/0/001.p/47",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/47",
      ]);
      const tiles = new Map<string, Uint8Array>();
      const bundles: Uint8Array[][] = [];
      for (const t of wanted) {
        const res = await fetch(
          `${prefix}/${tilePath(t)}`,
          t.level === "entries" ? { headers: { authorization: `Bearer ${iss.issuerToken}` } } : {},
        );
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("application/octet-stream");
        expect(res.headers.get("cache-control")).toMatch(
          t.width === 256 ? /max-age=31536000, immutable/ : /max-age=2$/,
        );
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (t.level === "entries") bundles.push(decodeEntryBundle(bytes));
        else {
          expect(bytes.length).toBe(32 * t.width);
          tiles.set(`${t.level}/${t.index}`, bytes);
        }
      }
      // Root from the tiles alone, and from the entry bundles' leaves: both the checkpoint's root.
      const reader = tileReader(tiles);
      expect(Buffer.from(await rootFromNodes(cp.size, reader)).toString("base64")).toBe(
        Buffer.from(cp.root).toString("base64"),
      );
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

      // The proof endpoints answer the same hashes, one base64 line each.
      const lines = (hs: Uint8Array[]) => hs.map((h) => `${Buffer.from(h).toString("base64")}\n`).join("");
      const ip = await fetch(`${prefix}/proof/inclusion?index=${i}&size=${cp.size}`);
      expect(ip.status).toBe(200);
      expect(await ip.text()).toBe(lines(proof));
      const cpf = await fetch(`${prefix}/proof/consistency?from=${old.cp.size}&to=${cp.size}`);
      expect(await cpf.text()).toBe(lines(cproof));
      expect(await (await fetch(`${prefix}/proof/consistency?from=0&to=${cp.size}`)).text()).toBe("");
      const listed = (await (await fetch(`${url}/v1/logs`)).json()) as {
        logs: { issuer: string; origin: string; size: number }[];
      };
      expect(listed.logs.find((l) => l.issuer === iss.issuerId)).toEqual({
        issuer: iss.issuerId,
        origin: vkey.name,
        size: cp.size,
      });

      // A tampered checkpoint (size or root changed, signature kept) does not verify.
      await expect(openNote(note.replace("\n303\n", "\n304\n"), [vkey])).rejects.toThrow();
      const other = await setupIssuer(call, server!.operatorToken, 0, "Other");
      const otherKey = await logKey(url, other.issuerId);
      await expect(openNote(note, [otherKey])).rejects.toThrow(); // another log's key does not vouch for this one
    });

    it("answers bad tile requests with typed errors and never serves beyond the tree", async () => {
      const url = server!.url;
      const call = httpCaller(url);
      const iss = await setupIssuer(call, server!.operatorToken, 1, "Edges");
      await appendMany(call, iss.agents, 9, "e"); // 10 entries
      const prefix = `${url}/v1/logs/${iss.issuerId}`;
      const until = Date.now() + 20_000;
      while (!(await (await fetch(`${prefix}/checkpoint`)).text()).includes("\n10\n")) {
        if (Date.now() > until) throw new Error("no checkpoint of 10");
        await new Promise((r) => setTimeout(r, 50));
      }
      const get = async (path: string, token?: string) => {
        const res = await fetch(`${prefix}/${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
        return {
          status: res.status,
          body: res.headers.get("content-type")?.includes("json") ? await res.json() : undefined,
        };
      };
      expect((await get("tile/0/000.p/10")).status).toBe(200);
      expect((await get("tile/0/000.p/11")).body.code).toBe("ERR_TILE_NOT_FOUND"); // beyond the tree
      expect((await get("tile/0/000")).status).toBe(404); // full tile not there yet
      expect((await get("tile/1/000.p/1")).status).toBe(404);
      expect((await get("tile/entries/000.p/11", iss.issuerToken)).status).toBe(404);
      for (const bad of [
        "tile/0/0",
        "tile/00/000",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
        "tile/64/000",
        "tile/0/x000/001",
        "tile/0/000.p/01",
        "tile/entries/000.p/x",
      ]) {
        const r = await get(bad);
        expect(r.status, bad).toBe(400);
      }
      // Entry bundles: the issuer's token, not another's, not none.
      expect((await get("tile/entries/000.p/10")).status).toBe(401);
      const stranger = await setupIssuer(call, server!.operatorToken, 0, "Stranger");
      expect((await get("tile/entries/000.p/10", stranger.issuerToken)).status).toBe(403);
      expect((await get("tile/entries/000.p/10", iss.issuerToken)).status).toBe(200);
      // Unknown issuer: 404; no checkpoint yet: 404 ERR_NO_CHECKPOINT.
      expect((await fetch(`${url}/v1/logs/iss_${"0".repeat(32)}/tile/0/000.p/1`)).status).toBe(404);
      expect((await fetch(`${url}/v1/logs/not-an-issuer/tile/0/000.p/1`)).status).toBe(400);
      const empty = await fetch(`${url}/v1/logs/${stranger.issuerId}/checkpoint`);
      expect(empty.status).toBe(404);
      expect((await empty.json()).code).toBe("ERR_NO_CHECKPOINT");
    });

    it("proof parameters out of range are typed 400/404 problems", async () => {
      const url = server!.url;
      const call = httpCaller(url);
      const iss = await setupIssuer(call, server!.operatorToken, 1, "Proof Edges");
      await appendMany(call, iss.agents, 4, "p"); // 5 entries
      const prefix = `${url}/v1/logs/${iss.issuerId}/proof`;
      const problem = async (path: string) => {
        const res = await fetch(`${prefix}/${path}`);
        expect(res.headers.get("content-type"), path).toMatch(/problem\+json/);
        return { status: res.status, code: ((await res.json()) as { code: string }).code };
      };
      expect(await problem("inclusion?index=5&size=5")).toEqual({ status: 400, code: "ERR_PROOF_RANGE" });
      expect(await problem("inclusion?index=0&size=6")).toEqual({ status: 404, code: "ERR_BEYOND_TREE" });
      expect(await problem("consistency?from=3&to=2")).toEqual({ status: 400, code: "ERR_PROOF_RANGE" });
      expect(await problem("consistency?from=1&to=99")).toEqual({ status: 404, code: "ERR_BEYOND_TREE" });
      expect((await problem("inclusion?index=-1&size=5")).status).toBe(400);
      expect((await problem("inclusion?index=1")).status).toBe(400);
      expect((await problem("consistency?from=a&to=2")).status).toBe(400);
    });

    it("receipts v2: the v1 members plus a tlog proof that verifies; ?wait; the agent's own entries only", async () => {
      const url = server!.url;
      const call = httpCaller(url);
      const iss = await setupIssuer(call, server!.operatorToken, 2, "Receipts");
      const [a, b] = iss.agents as unknown as [{ id: string; token: string }, { id: string; token: string }];
      const posted = await fetch(`${url}/v1/agents/${a.id}/operations`, {
        method: "POST",
        headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
        body: JSON.stringify({ payload: { hello: "v2" } }),
      });
      expect(posted.status).toBe(201);
      const v1 = (await posted.json()) as { format: string; entry: { seq: number } };
      expect(v1.format).toBe("kakunin-receipt/1"); // answered at once
      const seq = v1.entry.seq;
      expect(posted.headers.get("link")).toBe(`</v1/log/entries/${seq}/receipt>; rel="kakunin-receipt-v2"`);
      const get = (token: string, q = "") =>
        fetch(`${url}/v1/log/entries/${seq}/receipt${q}`, { headers: { authorization: `Bearer ${token}` } });
      const res = await get(a.token, "?wait=5");
      expect(res.status).toBe(200);
      const r = (await res.json()) as Record<string, unknown> & { proof: string; entry: Record<string, unknown> };
      expect(r.format).toBe("kakunin-receipt/2");
      for (const k of ["entry", "certificates", "crl"]) expect(r, k).toHaveProperty(k);
      expect(r.entry).toEqual((v1 as unknown as { entry: unknown }).entry);
      const tp = parseTlogProof(r.proof);
      expect(tp.index).toBe(seq);
      const vkey = await logKey(url, iss.issuerId);
      const cp = parseCheckpoint((await openNote(tp.checkpoint, [vkey])).text);
      await verifyInclusion(seq, cp.size, await hashLeaf(entryLeafData(r.entry)), tp.proof, cp.root);
      // The issuer may read it too; another agent of the issuer may not; no entry: 404.
      expect((await get(iss.issuerToken)).status).toBe(200);
      expect((await get(b.token)).status).toBe(403);
      const none = await fetch(`${url}/v1/log/entries/999999/receipt`, {
        headers: { authorization: `Bearer ${iss.issuerToken}` },
      });
      expect(none.status).toBe(404);
      expect(((await none.json()) as { code: string }).code).toBe("ERR_ENTRY_NOT_FOUND");
      expect((await get(a.token, "?wait=6")).status).toBe(400);
      expect((await fetch(`${url}/v1/log/entries/${seq}/receipt`)).status).toBe(401);
    });

    it("serves the stored checkpoint and tiles while KMS hangs (reads never wait on KMS)", async () => {
      const iss = await setupIssuer(httpCaller(server!.url), server!.operatorToken, 1, "Frozen");
      const prefix = `${server!.url}/v1/logs/${iss.issuerId}`;
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
        const p = await fetch(`${prefix}/proof/inclusion?index=0&size=1`, { signal: AbortSignal.timeout(3000) });
        expect(p.status).toBe(200);
        const receipt = await fetch(`${server!.url}/v1/log/entries/0/receipt`, {
          headers: { authorization: `Bearer ${iss.issuerToken}` },
          signal: AbortSignal.timeout(3000),
        });
        expect(receipt.status).toBe(200);
        expect((await fetch(`${server!.url}/v1/public/log-keys`, { signal: AbortSignal.timeout(3000) })).status).toBe(
          200,
        );
      } finally {
        process.kill(kms.pid, "SIGCONT");
      }
    });
  });
