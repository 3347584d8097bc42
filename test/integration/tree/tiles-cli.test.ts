/**
 * `kakunin-verify tiles URL` over real HTTP: a real server process (real local KMS, SQLite) with a log
 * of 300 entries (a full tile, a partial one, level 1), the same log copied by `npm run publish-tiles`
 * and served by a plain static server, and what an attacker in between can serve (a proxy here that
 * rewrites one response): a flipped byte, a truncated tile, a checkpoint signed by another key, a
 * root the log signed that its tiles do not give, an altered entry bundle. Plus --since (kept and
 * forked checkpoints, the fork signed by the log key in KMS as a rogue log would), an unreachable
 * server, a deadline, and the usage errors. The CLI runs as its own process.
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, normalize, resolve } from "node:path";
import { promisify } from "node:util";
import { SignCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  base64Encode,
  formatCheckpoint,
  formatNote,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  type NoteVerifierKey,
} from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { httpCaller, setupIssuer } from "../log/fixture.js";

const run = promisify(execFile);
const BIN = resolve(__dirname, "../../../verifier/bin/kakunin-verify.js");
const REPO = resolve(__dirname, "../../..");

/** Runs `kakunin-verify tiles …` as a child process (async: the test's own servers must keep answering). */
async function cli(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== "KAKUNIN_TOKEN"));
  try {
    const r = await run(process.execPath, [BIN, "tiles", ...args], { env: { ...base, ...env }, timeout: 120_000 });
    return { status: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout: string; stderr: string };
    return { status: err.code ?? -1, stdout: err.stdout, stderr: err.stderr };
  }
}

/** A tiny HTTP server for the test; `handle` answers each GET. */
async function listen(
  handle: (
    path: string,
    headers: Record<string, string | string[] | undefined>,
  ) => Promise<{ status: number; body: Uint8Array | string; location?: string }>,
) {
  const server = createServer((req, res) => {
    handle(req.url ?? "/", req.headers).then(
      ({ status, body, location }) => {
        res.writeHead(status, { "content-type": "application/octet-stream", ...(location ? { location } : {}) });
        res.end(body);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
const close = (s: Server | undefined) =>
  new Promise<void>((r) => {
    if (!s) return r();
    s.close(() => r());
    s.closeAllConnections(); // the hanging server's sockets too
  });

let kms: LocalKms;
let server: RunningServer | undefined;
let dir: string;
let issuerId: string;
let issuerToken: string;
let prefix: string;
let vkey: string;
let key: NoteVerifierKey;
let oldNote: string;
let note: string;
const servers: Server[] = [];

/** A note over `text` signed by the log's own key in KMS: what a rogue log (not an outsider) can make. */
async function signByLog(text: string): Promise<string> {
  const sig = await kms.client({ maxAttempts: 1 }).send(
    new SignCommand({
      KeyId: "alias/kakunin/tlog",
      Message: new TextEncoder().encode(text),
      MessageType: "RAW",
      SigningAlgorithm: "ED25519_SHA_512",
    }),
  );
  return formatNote({
    text,
    signatures: [{ name: key.name, keyId: key.keyId, signature: new Uint8Array(sig.Signature!) }],
  });
}

/** A proxy in front of the server that rewrites the response for `path` (relative to the log prefix). */
async function proxy(rewrite: (path: string, body: Uint8Array) => Uint8Array | string | undefined) {
  const p = await listen(async (path, headers) => {
    const res = await fetch(`${server!.url}${path}`, {
      headers: headers.authorization ? { authorization: String(headers.authorization) } : {},
    });
    const body = new Uint8Array(await res.arrayBuffer());
    const rel = path.slice(`/v1/logs/${issuerId}/`.length);
    return { status: res.status, body: (res.status === 200 && rewrite(rel, body)) || body };
  });
  servers.push(p.server);
  return `${p.url}/v1/logs/${issuerId}/`;
}

const flip = (b: Uint8Array, at: number) => {
  const c = new Uint8Array(b);
  c[at]! ^= 0x01;
  return c;
};

async function checkpointOf(size: number): Promise<string> {
  const until = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${prefix}checkpoint`);
    const text = res.status === 200 ? await res.text() : "";
    if (text && parseCheckpoint(parseNote(text).text).size === size) return text;
    if (Date.now() > until) throw new Error(`no checkpoint of size ${size}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  kms = await startLocalKms();
  dir = await mkdtemp(join(tmpdir(), "kakunin-tiles-cli-"));
  server = await startServer({
    kmsEndpoint: kms.endpoint,
    env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "100" },
  });
  const call = httpCaller(server.url);
  const iss = await setupIssuer(call, server.operatorToken, 2, "Tiles CLI");
  ({ issuerId, issuerToken } = iss);
  prefix = `${server.url}/v1/logs/${issuerId}/`;
  const append = async (from: number, to: number) => {
    let k = from;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = k++; i < to; i = k++) {
          const a = iss.agents[i % 2]!;
          const r = await call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { i } } });
          if (r.status !== 201) throw new Error(`append ${i}: ${r.status}`);
        }
      }),
    );
  };
  await append(0, 41); // 2 registrations + 41 operations
  oldNote = await checkpointOf(43);
  await append(41, 298);
  note = await checkpointOf(300);
  const lines = (await (await fetch(`${server.url}/v1/public/log-keys`)).text()).split("\n");
  vkey = lines.find((l) => l.startsWith(`kakunin.test/${issuerId}+`))!;
  key = await parseVerifierKey(vkey);
  await writeFile(join(dir, "old.checkpoint"), oldNote);
}, 180_000);

afterAll(async () => {
  for (const s of servers) await close(s);
  await server?.stop();
  await kms?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("kakunin-verify tiles", () => {
  it("PASSED on a live log of 300 entries: full and partial tiles, level 1, entry bundles with the token, --since", async () => {
    const r = await cli([prefix, "--log-key", vkey, "--entries", "--since", join(dir, "old.checkpoint")], {
      KAKUNIN_TOKEN: issuerToken,
    });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain(
      `PASSED: kakunin.test/${issuerId}: size 300, root ${base64Encode(parseCheckpoint(parseNote(note).text).root)}\n`,
    );
    expect(r.stdout).toContain("✓ hash tiles: 3 of 3 tiles on 2 levels");
    expect(r.stdout).toContain("✓ entry bundles: 300 of 300 entries");
    expect(r.stdout).toContain("✓ since: size 300 extends the --since checkpoint of size 43");
    expect(r.stdout + r.stderr).not.toContain(issuerToken);
    // The same log key from a tlog-policy file (no witnesses: quorum none).
    await writeFile(join(dir, "policy.txt"), `log ${vkey}\nquorum none\n`);
    const byPolicy = await cli([prefix, "--policy", join(dir, "policy.txt")]);
    expect([byPolicy.status, byPolicy.stderr]).toEqual([0, ""]);
    expect(byPolicy.stdout).toContain('✓ witness quorum: witness quorum "none" met');
    const json = JSON.parse((await cli([prefix, "--log-key", vkey, "--json"])).stdout);
    expect(json).toMatchObject({
      verdict: "PASSED",
      checkpoint: { origin: key.name, size: 300 },
      counts: { hashTiles: 3, entryBundles: 0, entries: 0 },
      problems: [],
    });
  });

  it("PASSED on the folder publish-tiles writes, served by a plain static server", async () => {
    const out = join(dir, "static");
    await run("npx", ["tsx", "scripts/publish-tiles.ts", "--out", out, "--entries"], {
      cwd: REPO,
      env: { ...process.env, DATA_DIR: server!.dataDir, KAKUNIN_PUBLIC_URL: "http://kakunin.test" },
    });
    const s = await listen(async (path) => {
      const file = normalize(join(out, decodeURIComponent(path.split("?")[0]!)));
      if (!file.startsWith(out)) return { status: 403, body: "" };
      return readFile(file).then(
        (b) => ({ status: 200, body: new Uint8Array(b) }),
        () => ({ status: 404, body: "" }),
      );
    });
    servers.push(s.server);
    const r = await cli([`${s.url}/v1/logs/${issuerId}`, "--log-key", vkey, "--entries"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(/^PASSED: /);
    expect(r.stdout).toContain("✓ entry bundles: 300 of 300 entries");
  });

  it("FAILED ERR_TILE for a flipped byte in a full tile and for a truncated tile", async () => {
    const flipped = await cli([
      await proxy((p, b) => (p === "tile/0/000" ? flip(b, 100) : undefined)),
      "--log-key",
      vkey,
    ]);
    expect(flipped.status).toBe(1);
    expect(flipped.stdout).toContain(
      "FAILED ERR_TILE tile/0/000: tile/0/000 does not hash to hash 0 of tile/1/000.p/1",
    );
    const cut = await cli([
      await proxy((p, b) => (p === "tile/0/000" ? b.subarray(0, b.length - 1) : undefined)),
      "--log-key",
      vkey,
      "--json",
    ]);
    expect(cut.status).toBe(1);
    expect(JSON.parse(cut.stdout).problems).toEqual([
      expect.objectContaining({
        code: "ERR_TILE",
        verdict: "FAILED",
        tile: "tile/0/000",
        message: "tile/0/000 is 8191 bytes; a tile of width 256 is 8192 bytes",
      }),
    ]);
  });

  it("FAILED ERR_TREE_ROOT when a partial tile is changed, or the log signed a root its tiles do not give", async () => {
    const partial = await cli([
      await proxy((p, b) => (p === "tile/0/001.p/44" ? flip(b, 5) : undefined)),
      "--log-key",
      vkey,
    ]);
    expect(partial.status).toBe(1);
    expect(partial.stdout).toMatch(
      /FAILED ERR_TREE_ROOT: the tiles give the root \S+ for size 300, the checkpoint says /,
    );
    const cp = parseCheckpoint(parseNote(note).text);
    const lying = await signByLog(formatCheckpoint({ ...cp, root: flip(cp.root, 0) as typeof cp.root }));
    const r = await cli([await proxy((p) => (p === "checkpoint" ? lying : undefined)), "--log-key", vkey, "--json"]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).problems.map((p: { code: string }) => p.code)).toEqual(["ERR_TREE_ROOT"]);
  });

  it("FAILED ERR_LOG_SIGNATURE for a checkpoint signed by a key nobody pinned (same origin name)", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const { signNote } = await import("../../../verifier/src/formats/note.js");
    const forged = await signNote(
      parseNote(note).text,
      key.name,
      pub,
      async (m) => new Uint8Array(await crypto.subtle.sign("Ed25519", pair.privateKey, m)),
    );
    const r = await cli([await proxy((p) => (p === "checkpoint" ? forged : undefined)), "--log-key", vkey]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("FAILED ERR_LOG_SIGNATURE: checkpoint: note has no verifiable signatures");
    expect(r.stdout).not.toContain("hash tiles"); // nothing fetched under a checkpoint nobody pinned
  });

  it("FAILED ERR_ENTRY_BUNDLE for an altered entry bundle", async () => {
    const r = await cli([
      await proxy((p, b) => (p === "tile/entries/000" ? flip(b, 40) : undefined)),
      "--log-key",
      vkey,
      "--entries",
      "--token",
      issuerToken,
    ]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      "FAILED ERR_ENTRY_BUNDLE tile/entries/000: entry 0 (tile/entries/000, entry 0): its leaf hash is not hash 0 of tile/0/000",
    );
    expect(r.stdout).toContain("✓ hash tiles");
    expect(r.stdout + r.stderr).not.toContain(issuerToken);
  });

  it("--since a checkpoint the log forked from: FAILED ERR_CONSISTENCY with both signed notes as evidence", async () => {
    const old = parseCheckpoint(parseNote(oldNote).text);
    const fork = await signByLog(formatCheckpoint({ ...old, root: flip(old.root, 3) as typeof old.root }));
    await writeFile(join(dir, "fork.checkpoint"), fork);
    const r = await cli([prefix, "--log-key", vkey, "--since", join(dir, "fork.checkpoint")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `FAILED ERR_CONSISTENCY: the log showed two histories: the tiles of its checkpoint of size 300 give the root ${base64Encode(old.root)} at size 43`,
    );
    expect(r.stdout).toContain("kakunin split-view evidence");
    expect(r.stdout).toContain(fork);
    expect(r.stdout).toContain(note);
    // Larger than the published one: not shown (a stale copy, or a log that went back).
    const ahead = await signByLog(formatCheckpoint({ ...old, size: 400 }));
    await writeFile(join(dir, "ahead.checkpoint"), ahead);
    const a = await cli([prefix, "--log-key", vkey, "--since", join(dir, "ahead.checkpoint")]);
    expect(a.status).toBe(3);
    expect(a.stdout).toContain(
      "INDETERMINATE ERR_CONSISTENCY: the published checkpoint (size 300) is smaller than the --since checkpoint (size 400)",
    );
  });

  it("exit 2: no pinned key, unreachable server, a deadline, entry bundles without the token, a --since note the log did not sign", async () => {
    const noKey = await cli([prefix]);
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain("--log-key VKEY or --policy FILE");
    const closed = await listen(async () => ({ status: 200, body: "" }));
    await close(closed.server);
    const down = await cli([`${closed.url}/v1/logs/${issuerId}/`, "--log-key", vkey]);
    expect(down.status).toBe(2);
    expect(down.stderr).toContain(
      `kakunin-verify: cannot read ${closed.url}/v1/logs/${issuerId}/checkpoint: ECONNREFUSED`,
    );
    const hang = await listen(() => new Promise(() => undefined));
    servers.push(hang.server);
    const slow = await cli([`${hang.url}/v1/logs/${issuerId}/`, "--log-key", vkey, "--timeout-ms", "300"]);
    expect(slow.status).toBe(2);
    expect(slow.stderr).toContain("no answer within 300 ms (--timeout-ms)");
    const noToken = await cli([prefix, "--log-key", vkey, "--entries"]);
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toContain("entry bundles need the issuer's token (HTTP 401): --token T or KAKUNIN_TOKEN");
    // A redirect of an entry bundle: the token is not sent on to another URL.
    const hop = await listen(async (path) => {
      if (path.includes("/tile/entries/")) return { status: 302, body: "", location: `${server!.url}${path}` };
      const res = await fetch(`${server!.url}${path}`);
      return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
    });
    servers.push(hop.server);
    const moved = await cli([
      `${hop.url}/v1/logs/${issuerId}/`,
      "--log-key",
      vkey,
      "--entries",
      "--token",
      issuerToken,
    ]);
    expect(moved.status).toBe(2);
    expect(moved.stderr).toContain("redirected (HTTP 302); the token is only sent to the URL given");
    expect(moved.stdout + moved.stderr).not.toContain(issuerToken);
    await writeFile(join(dir, "tampered.checkpoint"), oldNote.replace("\n43\n", "\n44\n"));
    const bad = await cli([prefix, "--log-key", vkey, "--since", join(dir, "tampered.checkpoint")]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`--since ${join(dir, "tampered.checkpoint")}: invalid signature`);
    await writeFile(join(dir, "bad-policy.txt"), "bogus line\n");
    const badPolicy = await cli([prefix, "--policy", join(dir, "bad-policy.txt")]);
    expect(badPolicy.status).toBe(2);
    expect(badPolicy.stderr).toContain(`policy ${join(dir, "bad-policy.txt")}:1: `);
    const wrongUrl = await cli(["ftp://example/", "--log-key", vkey]);
    expect([wrongUrl.status, wrongUrl.stderr]).toEqual([
      2,
      "kakunin-verify: ftp://example/: only http and https URLs can be read\n",
    ]);
  });
});
