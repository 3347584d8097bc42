/**
 * The real server's export with its log v2 tree-checkpoint lines, through the verifier (library and
 * CLI) with the log key from GET /v1/public/log-keys: the tree is recomputed over the entries and
 * every tree checkpoint matches it (PASSED); a mutated entry, an altered root, a note re-signed by
 * another Ed25519 key are FAILED; `--since` with a checkpoint the server published earlier is
 * PASSED, and with one of another history FAILED with both notes printed as split-view evidence.
 * A property: changing any signed character of an entry or tree-checkpoint line is never PASSED.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyExport } from "../../../verifier/src/index.js";
import {
  base64Encode,
  formatCheckpoint,
  parseCheckpoint,
  parseNote,
  parsePolicy,
  parseVerifierKey,
  signNote,
  formatVerifierKey,
  type NoteVerifierKey,
} from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { cosignerKey } from "../../helpers/witness-keys.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { cliSandbox, EXIT } from "../../unit/verifier/fixtures/cli.js";

type Json = Record<string, any>;
let kms: LocalKms;
let srv: RunningServer;
let caPem: string;
let lines: string[] = [];
let vkeys: string[] = [];
let logKeys: NoteVerifierKey[] = [];
let origin: string;
/** A checkpoint note the server published after the first appends (what an auditor keeps). */
let oldNote: string;
/** The same log exported from seq 2 on, and up to seq 3 only. */
let partial: string[] = [];
let head: string[] = [];
const box = cliSandbox("kakunin-export-tree-");

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ text: string }> {
  const res = await fetch(srv.url + path, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return { text };
}
const json = async (method: string, path: string, token: string, body?: unknown): Promise<Json> =>
  JSON.parse((await call(method, path, token, body)).text);

/** Appends `n` operations and waits until a checkpoint covers the last one. */
async function append(agent: string, token: string, n: number): Promise<Json> {
  let receipt: Json = {};
  for (let i = 0; i < n; i++) {
    const op = await json("POST", `/v1/agents/${agent}/operations`, token, { payload: { i, at: Date.now() } });
    if (i === n - 1) receipt = await json("GET", `/v1/log/entries/${op.entry.seq}/receipt?wait=5`, token);
  }
  return receipt;
}

const treeLines = () => lines.filter((l) => l.startsWith('{"kind":"tree-checkpoint"'));
const trust = () => ({ caCertificate: caPem });
const keyArgs = () => vkeys.flatMap((k) => ["--log-key", k]);

/** A fresh Ed25519 key named after the origin, as a note signer. */
async function otherSigner(): Promise<{ vkey: string; sign: (text: string) => Promise<string> }> {
  const kp = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", kp.publicKey));
  return {
    vkey: await formatVerifierKey(origin, pub),
    sign: (text) =>
      signNote(text, origin, pub, async (m) => new Uint8Array(await crypto.subtle.sign("Ed25519", kp.privateKey, m))),
  };
}

beforeAll(async () => {
  kms = await startLocalKms();
  srv = await startServer({
    kmsEndpoint: kms.endpoint,
    env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "200" },
  });
  const iss = await json("POST", "/v1/issuers", srv.operatorToken, { name: "Tree Export Co" });
  const agent = await json("POST", "/v1/agents", iss.token, { name: "tree-bot" });
  const first = await append(agent.id, iss.token, 3);
  oldNote = (await call("GET", `/v1/logs/${iss.id}/checkpoint`, iss.token)).text;
  origin = oldNote.split("\n")[0]!;
  expect(first.format).toBe("kakunin-receipt/2");
  await append(agent.id, iss.token, 4);
  lines = (await call("GET", "/v1/log/export?payloads=true", iss.token)).text.split("\n").filter((l) => l);
  partial = (await call("GET", "/v1/log/export?from=2", iss.token)).text.split("\n").filter((l) => l);
  head = (await call("GET", "/v1/log/export?to=3", iss.token)).text.split("\n").filter((l) => l);
  caPem = await (await fetch(`${srv.url}/v1/public/ca.pem`, { signal: AbortSignal.timeout(10_000) })).text();
  const published = (await (await fetch(`${srv.url}/v1/public/log-keys`)).text()).split("\n").filter((l) => l);
  vkeys = published.filter((l) => l.startsWith(`${origin}+`));
  logKeys = await Promise.all(vkeys.map(parseVerifierKey));
}, 180_000);

afterAll(async () => {
  await srv?.stop();
  await kms?.stop();
});

describe("the real server's export with tree checkpoints", () => {
  it("carries tree-checkpoint lines right after the entry that ends their tree; PASSED with the log key", async () => {
    const trees = treeLines();
    expect(trees.length).toBeGreaterThanOrEqual(1);
    const entries = lines.filter((l) => l.startsWith('{"kind":"entry"'));
    for (const t of trees) {
      const i = lines.indexOf(t);
      const cp = parseCheckpoint(parseNote(JSON.parse(t).note).text);
      const before = lines.slice(0, i).filter((l) => l.startsWith('{"kind":"entry"'));
      expect(JSON.parse(before[before.length - 1]!).entry.seq).toBe(cp.size - 1);
    }
    expect(parseCheckpoint(parseNote(JSON.parse(trees[trees.length - 1]!).note).text).size).toBe(entries.length);
    const r = await verifyExport(lines, { trust: trust(), logKeys });
    expect(r.verdict, JSON.stringify(r.errors)).toBe("PASSED");
    expect(r.tree).toMatchObject({
      recomputed: true,
      size: entries.length,
      signatures: "verified",
      checkpoints: { lines: trees.length, rootsMatched: trees.length, logSigned: trees.length },
    });
    expect(r.tree!.root).toBe(r.tree!.checkpoints.newest!.root);
    expect(r.steps.find((s) => s.name === "tree")?.status).toBe("passed");
    // Without a log key the tree is still recomputed and compared, but its signatures are not judged.
    const none = await verifyExport(lines, { trust: trust() });
    expect(none.verdict).toBe("PASSED");
    expect(none.tree?.signatures).toBe("not-pinned");
    expect(none.steps.find((s) => s.name === "tree")?.status).toBe("skipped");
    // An old verifier's view: the same export without the new lines verifies exactly as before.
    const v1 = await verifyExport(
      lines.filter((l) => !trees.includes(l)),
      { trust: trust() },
    );
    expect([v1.verdict, v1.tree, v1.steps.map((s) => s.name).includes("tree")]).toEqual(["PASSED", undefined, false]);
  });

  it("the CLI agrees: --json states the tree; a partial export with a key is INDETERMINATE ERR_TREE_UNCHECKED", async () => {
    const ca = box.file(caPem, "ca.pem");
    const file = box.file(lines.join("\n") + "\n", "export.ndjson");
    const ok = box.cli("log", file, "--ca", ca, "--no-progress", "--json", ...keyArgs());
    expect(ok.status, ok.stdout + ok.stderr).toBe(EXIT.PASSED);
    expect(ok.json?.subject).toBeDefined();
    const tree = (ok.json as unknown as { tree: Json }).tree;
    expect(tree).toMatchObject({ recomputed: true, signatures: "verified" });
    expect(box.cli("log", file, "--ca", ca, "--no-progress").status).toBe(EXIT.PASSED);
    // A partial export (from > 0): its tree cannot be recomputed; asked for with a key, that is said.
    const part = box.file(partial.join("\n") + "\n", "partial.ndjson");
    expect(partial.some((l) => l.startsWith('{"kind":"tree-checkpoint"'))).toBe(true);
    const p = box.cli("log", part, "--ca", ca, "--no-progress", "--json", ...keyArgs());
    expect(p.status, p.stdout).toBe(EXIT.INDETERMINATE);
    expect(p.json?.errors.map((e) => e.code)).toEqual(["ERR_TREE_UNCHECKED"]);
    expect(box.cli("log", part, "--ca", ca, "--no-progress").status).toBe(EXIT.PASSED);
    const other = await otherSigner();
    const wrongKey = box.cli("log", file, "--ca", ca, "--no-progress", "--json", "--log-key", other.vkey);
    expect(wrongKey.status).toBe(EXIT.FAILED);
    expect(wrongKey.json?.errors.map((e) => e.code)).toContain("ERR_LOG_SIGNATURE");
  });

  it("a mutated entry, an altered root, a note re-signed by another key: FAILED", async () => {
    const entryAt = lines.findIndex((l) => l.startsWith('{"kind":"entry"'));
    const e = JSON.parse(lines[entryAt]!);
    e.entry.payloadHash = (e.entry.payloadHash[0] === "a" ? "b" : "a") + e.entry.payloadHash.slice(1);
    const mutated = lines.with(entryAt, JSON.stringify(e));
    const m = await verifyExport(mutated, { trust: trust(), logKeys });
    expect(m.verdict).toBe("FAILED");
    expect(m.errors.map((x) => x.code)).toContain("ERR_TREE_ROOT"); // every later tree checkpoint disagrees

    const last = treeLines()[treeLines().length - 1]!;
    const at = lines.indexOf(last);
    const note = JSON.parse(last).note as string;
    const parsed = parseNote(note);
    const cp = parseCheckpoint(parsed.text);
    const forgedRoot = new Uint8Array(cp.root);
    forgedRoot[0]! ^= 1;
    const altered = note.replace(base64Encode(cp.root), base64Encode(forgedRoot));
    const a = await verifyExport(lines.with(at, JSON.stringify({ kind: "tree-checkpoint", note: altered })), {
      trust: trust(),
      logKeys,
    });
    expect(a.verdict).toBe("FAILED");
    expect(a.errors.map((x) => x.code)).toEqual(expect.arrayContaining(["ERR_TREE_ROOT", "ERR_LOG_SIGNATURE"]));

    const other = await otherSigner();
    const resigned = await other.sign(parsed.text);
    const r = await verifyExport(lines.with(at, JSON.stringify({ kind: "tree-checkpoint", note: resigned })), {
      trust: trust(),
      logKeys,
    });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors.map((x) => x.code)).toContain("ERR_LOG_SIGNATURE");
  });

  it("--since a checkpoint published earlier: PASSED; one of another history: FAILED with both notes", async () => {
    const ca = box.file(caPem, "ca.pem");
    const file = box.file(lines.join("\n") + "\n", "export2.ndjson");
    const old = box.file(oldNote, "old.checkpoint");
    const ok = box.cli("log", file, "--ca", ca, "--no-progress", "--json", "--since", old, ...keyArgs());
    expect(ok.status, ok.stdout + ok.stderr).toBe(EXIT.PASSED);
    expect((ok.json as unknown as { tree: Json }).tree.since).toMatchObject({
      status: "extended",
      size: parseCheckpoint(parseNote(oldNote).text).size,
    });
    // Without a log key --since is a usage error.
    expect(box.cli("log", file, "--ca", ca, "--no-progress", "--since", old).status).toBe(2);

    // The same origin and size, another root, signed by another key named after the origin that
    // the auditor also pinned (as a log that keeps two histories would sign them).
    const cp = parseCheckpoint(parseNote(oldNote).text);
    const root = new Uint8Array(cp.root);
    root[5]! ^= 0x40;
    const other = await otherSigner();
    const forged = await other.sign(formatCheckpoint({ ...cp, root: root as typeof cp.root }));
    const forgedFile = box.file(forged, "forged.checkpoint");
    const bad = box.cli(
      "log",
      file,
      "--ca",
      ca,
      "--no-progress",
      "--since",
      forgedFile,
      ...keyArgs(),
      "--log-key",
      other.vkey,
    );
    expect(bad.status, bad.stdout + bad.stderr).toBe(EXIT.FAILED);
    expect(bad.stdout).toContain("kakunin split-view evidence");
    expect(bad.stdout).toContain(forged);
    expect(bad.stdout).toContain(JSON.parse(treeLines()[treeLines().length - 1]!).note);
    const lib = await verifyExport(lines, {
      trust: trust(),
      logKeys: [...logKeys, await parseVerifierKey(other.vkey)],
      since: forged,
    });
    expect(lib.tree?.since?.status).toBe("not-extended");
    expect(lib.errors.map((e) => e.code)).toContain("ERR_CONSISTENCY"); // as kakunin-verify tiles --since
    // A checkpoint signed by a key nobody pinned is a usage error, not evidence.
    expect(box.cli("log", file, "--ca", ca, "--no-progress", "--since", forgedFile, ...keyArgs()).status).toBe(2);
  });

  it("a misplaced tree checkpoint is ERR_MALFORMED; --since beyond the export or on a partial one is INDETERMINATE", async () => {
    const last = treeLines()[treeLines().length - 1]!;
    const at = lines.indexOf(last);
    const entryBefore = lines.slice(0, at).findLastIndex((l) => l.startsWith('{"kind":"entry"'));
    const moved = lines.filter((_, i) => i !== at);
    moved.splice(entryBefore, 0, last);
    const m = await verifyExport(moved, { trust: trust(), logKeys });
    expect(m.verdict).toBe("FAILED");
    expect(m.errors.find((e) => e.code === "ERR_MALFORMED")?.message).toContain("must follow entry");

    const newest = JSON.parse(last).note as string;
    const size = parseCheckpoint(parseNote(newest).text).size;
    for (const [part, why] of [
      [head, `reaches size 4, the checkpoint has size ${size}`],
      [partial, "starts at seq 2"],
    ] as const) {
      const r = await verifyExport(part, { trust: trust(), logKeys, since: newest });
      expect(r.verdict, JSON.stringify(r.errors)).toBe("INDETERMINATE");
      expect(r.tree?.since).toMatchObject({ status: "not-checked", size });
      expect(r.errors.find((e) => e.code === "ERR_TREE_UNCHECKED")?.message).toContain(why);
    }
  });

  it("--policy: the witness quorum is judged on the newest tree checkpoint (INDETERMINATE naming the missing)", async () => {
    const w1 = await cosignerKey("w1.example");
    const policy = await parsePolicy(`${vkeys.map((k) => `log ${k}`).join("\n")}\nwitness W1 ${w1.vkey}\nquorum W1\n`);
    const missing = await verifyExport(lines, { trust: trust(), policy });
    expect(missing.verdict).toBe("INDETERMINATE");
    const q = missing.errors.find((e) => e.code === "ERR_WITNESS_QUORUM");
    expect(q?.message).toContain("missing: W1");
    expect(missing.tree?.checkpoints.newest).toMatchObject({ quorumMet: false, missing: ["W1"] });
    // The newest line cosigned by W1: the quorum is met (the older lines need not be).
    const last = treeLines()[treeLines().length - 1]!;
    const note = JSON.parse(last).note as string;
    const cosigned = note + (await w1.cosign(parseNote(note).text));
    const withW1 = lines.with(lines.indexOf(last), JSON.stringify({ kind: "tree-checkpoint", note: cosigned }));
    const met = await verifyExport(withW1, { trust: trust(), policy });
    expect(met.verdict, JSON.stringify(met.errors)).toBe("PASSED");
    expect(met.tree?.checkpoints.newest).toMatchObject({ quorumMet: true, cosigned: ["W1"] });
    // A cosignature line of the pinned witness that does not verify: FAILED ERR_COSIGNATURE.
    const bad = note + (await w1.cosign(parseNote(note).text.replace(/\n$/, " \n")));
    const b = await verifyExport(
      lines.with(lines.indexOf(last), JSON.stringify({ kind: "tree-checkpoint", note: bad })),
      {
        trust: trust(),
        policy,
      },
    );
    expect(b.errors.map((e) => e.code)).toContain("ERR_COSIGNATURE");
    expect(b.verdict).toBe("FAILED");
  });

  it("property: changing any signed character of an entry or tree-checkpoint line is never PASSED", async () => {
    const targets = lines
      .map((l, i) => ({ l, i }))
      .filter(({ l }) => l.startsWith('{"kind":"entry"') || l.startsWith('{"kind":"tree-checkpoint"'));
    const ALPHABET = "0123456789abcdefABCDEF+/=xyz";
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: targets.length - 1 }),
        fc.nat(),
        fc.constantFrom(...ALPHABET),
        async (ti, pos, ch) => {
          const { l, i } = targets[ti]!;
          // A character inside the signed value: the entry object, or the note's text and signature lines.
          const start = l.startsWith('{"kind":"entry"')
            ? '{"kind":"entry","entry":'.length
            : '{"kind":"tree-checkpoint","note":"'.length;
          const p = start + (pos % (l.length - start - 2));
          if (l[p] === ch || l[p] === '"' || l[p] === "\\") return;
          const changed = l.slice(0, p) + ch + l.slice(p + 1);
          const r = await verifyExport(lines.with(i, changed), { trust: trust(), logKeys });
          expect(r.verdict, `line ${i + 1} at ${p}: ${l[p]} -> ${ch}`).not.toBe("PASSED");
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
