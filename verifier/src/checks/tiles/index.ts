/**
 * A published log (c2sp.org/tlog-tiles) checked against pinned trust, browser-safe: the checkpoint's
 * signature by a pinned log key (with a policy, its witness quorum); every hash tile its size needs,
 * each full tile hashing up to its hash in the tile above and the top and partial tiles to the
 * checkpoint's root; optionally each entry bundle's leaf hashes against the level-0 tiles; optionally
 * that the tree at an older checkpoint's size has that checkpoint's root (else split-view evidence).
 * The caller fetches (`fetchTile`); nothing here touches the network, so a portal can reuse it.
 */
import { reasonOf, VerificationError, type ReportErrorCode } from "../../errors.js";
import { base64Encode, bytesEqual, type Bytes } from "../../formats/bytes.js";
import { parseCheckpoint, type TlogCheckpoint } from "../../formats/checkpoint.js";
import { emptyRoot, HASH_SIZE } from "../../formats/merkle.js";
import { openNote, parseNote, type NoteVerifierKey } from "../../formats/note.js";
import type { TrustPolicy } from "../../formats/policy.js";
import { buildProof, consistencyPlan, rangeNodes, rootFromNodes, type NodeId } from "../../formats/proof-build.js";
import { tilePath, tilesForSize, TILE_WIDTH, type Tile } from "../../formats/tiles.js";
import type { Finding } from "../../report.js";
import { checkSplitView, formatSplitViewEvidence } from "../../trust/split-view.js";
import { evaluateWitnessQuorum } from "../../trust/witness-quorum.js";
import { checkBundle, forEachLimited, readTile, type FetchTile } from "./tile-read.js";

export type { FetchTile } from "./tile-read.js";
import { tileOfNode, TileNodes, tileRoot, WEB_HASHER, type TreeHasher } from "./tile-nodes.js";

export type { TreeHasher } from "./tile-nodes.js";

/** What {@link checkTiles} needs: the published note, the pinned trust, the fetcher and the options. */
export interface CheckTilesInput {
  fetchTile: FetchTile;
  /** The checkpoint note as published (`<prefix>/checkpoint`). */
  checkpoint: string;
  /** Pinned log verifier keys (named after the origin) and/or a tlog-policy (its log and witness keys, its quorum). */
  logKeys?: readonly NoteVerifierKey[];
  policy?: TrustPolicy;
  /** Also fetch the entry bundles and check each leaf hash against the level-0 tiles. */
  entries?: boolean;
  /** An older signed checkpoint of the same log the caller kept: the tree at its size must have its root. */
  since?: string;
  /** Fetches in flight at once (default 8). */
  concurrency?: number;
  /** For the cosignatures' timestamps (default: the clock). */
  now?: Date;
  onProgress?: (done: number, total: number) => void;
  /** The leaf and node hashes of the bulk work (default WebCrypto). */
  hasher?: TreeHasher;
}

/** A finding of the tiles check; `tile` names the tile path it is about. */
export interface TilesFinding extends Finding {
  tile?: string;
}

/** One line of the report: what was checked and how it went. */
export interface TilesStep {
  name: "checkpoint signature" | "witness quorum" | "hash tiles" | "root" | "entry bundles" | "since";
  status: "passed" | "failed" | "indeterminate" | "skipped";
  detail: string;
}

/** The outcome of {@link checkTiles}. */
export interface TilesReport {
  verdict: "PASSED" | "FAILED" | "INDETERMINATE";
  /** The published checkpoint (absent when its note could not be read). */
  checkpoint?: { origin: string; size: number; root: string; signedBy: string[] };
  counts: { hashTiles: number; entryBundles: number; entries: number };
  steps: TilesStep[];
  problems: TilesFinding[];
  /** With `since`: the older checkpoint and whether the published tree extends it. */
  since?: { size: number; root: string; consistent: boolean };
  /** When the published tree contradicts `since`: both signed notes and the proof from the tiles (split-view.ts format). */
  evidence?: string;
}

/** Collects findings and steps; decides the verdict. */
class Findings {
  readonly problems: TilesFinding[] = [];
  readonly steps: TilesStep[] = [];
  add(
    level: "FAILED" | "INDETERMINATE",
    code: ReportErrorCode,
    message: string,
    where: { tile?: string; seq?: number } = {},
  ) {
    const reason = reasonOf(code);
    this.problems.push({ ...where, verdict: level, ...(reason ? { reason } : {}), code, message });
  }
  /** Problems added since index `from`, as a step status. */
  status(from: number): TilesStep["status"] {
    const ps = this.problems.slice(from);
    return ps.some((p) => p.verdict === "FAILED") ? "failed" : ps.length ? "indeterminate" : "passed";
  }
  step(name: TilesStep["name"], from: number, detail: string, status = this.status(from)): void {
    this.steps.push({ name, status, detail });
  }
  get verdict(): TilesReport["verdict"] {
    if (this.problems.some((p) => p.verdict === "FAILED")) return "FAILED";
    return this.problems.length ? "INDETERMINATE" : "PASSED";
  }
}

/** The log keys pinned for `origin` (--log-key and the policy's log lines), each once. */
function pinnedKeys(input: CheckTilesInput, origin: string): NoteVerifierKey[] {
  const all = [...(input.logKeys ?? []), ...(input.policy?.logs.map((l) => l.key) ?? [])].filter(
    (k) => k.name === origin,
  );
  return all.filter((k, i) => all.findIndex((o) => o.keyId === k.keyId) === i);
}

const noCounts = () => ({ hashTiles: 0, entryBundles: 0, entries: 0 });

/** Checks a published log; rejects only with what `fetchTile` throws (the check could not be made). */
export async function checkTiles(input: CheckTilesInput): Promise<TilesReport> {
  const f = new Findings();
  const counts = noCounts();
  const done = (extra: Partial<TilesReport> = {}): TilesReport => ({
    verdict: f.verdict,
    counts,
    steps: f.steps,
    problems: f.problems,
    ...extra,
  });

  let cp: TlogCheckpoint;
  try {
    cp = parseCheckpoint(parseNote(input.checkpoint).text);
  } catch (e) {
    f.add("FAILED", "ERR_MALFORMED", `the checkpoint is not a C2SP signed checkpoint: ${(e as Error).message}`);
    f.step("checkpoint signature", 0, "unreadable checkpoint");
    return done();
  }
  const summary = { origin: cp.origin, size: cp.size, root: base64Encode(cp.root), signedBy: [] as string[] };

  // The log's signature, by pinned keys only (a published note cannot vouch for itself).
  const keys = pinnedKeys(input, cp.origin);
  if (keys.length === 0 && !input.logKeys?.length && !input.policy?.logs.length) {
    f.add(
      "INDETERMINATE",
      "ERR_LOG_KEY_NOT_PINNED",
      `no log key is pinned: the checkpoint of "${cp.origin}" is unverified`,
    );
  } else if (keys.length === 0) {
    f.add("FAILED", "ERR_LOG_SIGNATURE", `no pinned log key is for origin "${cp.origin}": not a log you trust`);
  } else {
    try {
      const opened = await openNote(input.checkpoint, keys);
      summary.signedBy = opened.verified.map((s) => `${s.name}+${s.keyId.toString(16).padStart(8, "0")}`);
    } catch (e) {
      f.add("FAILED", "ERR_LOG_SIGNATURE", `checkpoint: ${(e as Error).message}`);
    }
  }
  f.step(
    "checkpoint signature",
    0,
    summary.signedBy.length ? `signed by the pinned log key ${summary.signedBy.join(", ")}` : "",
  );
  // Tiles under a checkpoint nobody pinned prove nothing: stop before fetching them.
  if (f.problems.length) return done({ checkpoint: summary });

  if (input.policy) {
    const from = f.problems.length;
    const q = await evaluateWitnessQuorum(input.checkpoint, input.policy, {
      ...(input.logKeys ? { logKeys: input.logKeys } : {}),
      now: Math.floor((input.now ?? new Date()).getTime() / 1000),
    });
    if (q.invalid.length)
      f.add("FAILED", "ERR_COSIGNATURE", `a pinned witness's cosignature does not verify: ${q.summary}`);
    else if (!q.quorumMet)
      f.add("INDETERMINATE", "ERR_WITNESS_QUORUM", `${q.summary}; missing: ${q.missing.join(", ") || "none"}`);
    f.step("witness quorum", from, q.summary);
  }

  // The older checkpoint, if any: its size decides which tiles to keep for its root and proof.
  let old: TlogCheckpoint | undefined;
  if (input.since !== undefined) {
    try {
      old = parseCheckpoint(parseNote(input.since).text);
    } catch (e) {
      f.add("FAILED", "ERR_MALFORMED", `--since checkpoint: ${(e as Error).message}`);
    }
  }
  const oldSize = old && old.size > 0 && old.size < cp.size ? old.size : 0;

  const tree = await checkTree(input, cp, oldSize, f, counts);

  if (old && input.since !== undefined)
    return done({ checkpoint: summary, ...(await checkSince(input, cp, old, tree, keys, f)) });
  return done({ checkpoint: summary });
}

/** Fetches and checks every tile of the tree; returns the kept tiles when they give the checkpoint's root. */
async function checkTree(
  input: CheckTilesInput,
  cp: TlogCheckpoint,
  oldSize: number,
  f: Findings,
  counts: TilesReport["counts"],
): Promise<TileNodes | undefined> {
  const nodes = new TileNodes();
  if (cp.size === 0) {
    const ok = bytesEqual(cp.root, await emptyRoot());
    if (!ok) f.add("FAILED", "ERR_TREE_ROOT", "the checkpoint of size 0 has a root that is not the empty tree's");
    f.step("hash tiles", f.problems.length, "size 0: no tiles", "skipped");
    f.step("root", f.problems.length - (ok ? 0 : 1), ok ? "the empty tree's root" : "");
    return ok ? nodes : undefined;
  }
  const all = tilesForSize(cp.size);
  const hashTiles = all.filter((t): t is Tile & { level: number } => t.level !== "entries");
  const bundles = new Map(all.filter((t) => t.level === "entries").map((t) => [t.index, t]));
  const byKey = new Map(hashTiles.map((t) => [`${t.level}/${t.index}`, t]));
  // Tiles the roots (and the proof from oldSize) are computed from; other level-0 tiles are dropped once checked.
  const ids: NodeId[] = [...rangeNodes(0, cp.size)];
  if (oldSize) ids.push(...rangeNodes(0, oldSize), ...consistencyPlan(oldSize, cp.size).flat());
  const needed = new Set(ids.map((id) => `${tileOfNode(id).level}/${tileOfNode(id).index}`));

  const total = hashTiles.length + (input.entries ? bundles.size : 0);
  let fetched = 0;
  const progress = () => input.onProgress?.(++fetched, total);
  const concurrency = Math.max(1, input.concurrency ?? 8);
  const from = f.problems.length;
  const read = async (t: Tile & { level: number }) => {
    const r = await readTile(input.fetchTile, t, cp.size);
    progress();
    if ("problem" in r) f.add(r.problem.level, "ERR_TILE", r.problem.message, { tile: tilePath(t) });
    else counts.hashTiles++;
    return "bytes" in r ? r.bytes : undefined;
  };
  /** A full tile's hashes must hash up to its hash in the tile above (when that one was read). */
  const againstParent = async (t: Tile & { level: number }, bytes: Uint8Array) => {
    if (t.width !== TILE_WIDTH) return;
    const parentKey = `${t.level + 1}/${Math.floor(t.index / TILE_WIDTH)}`;
    const parent = nodes.get(t.level + 1, Math.floor(t.index / TILE_WIDTH));
    if (!parent) return; // not served or malformed: already a finding
    const at = (t.index % TILE_WIDTH) * HASH_SIZE;
    if (!bytesEqual(await tileRoot(bytes, input.hasher ?? WEB_HASHER), parent.subarray(at, at + HASH_SIZE)))
      f.add(
        "FAILED",
        "ERR_TILE",
        `${tilePath(t)} does not hash to hash ${t.index % TILE_WIDTH} of ${tilePath(byKey.get(parentKey)!)}: one of the two is not the log's`,
        { tile: tilePath(t) },
      );
  };

  // Levels ≥ 1 first (1/256 of the bytes), kept whole; then level 0 streamed, each tile with its bundle.
  await forEachLimited(
    hashTiles.filter((t) => t.level > 0),
    concurrency,
    async (t) => {
      const bytes = await read(t);
      if (bytes) nodes.keep(t.level, t.index, bytes);
    },
  );
  const bundleFrom = f.problems.length;
  await forEachLimited(
    hashTiles.filter((t) => t.level === 0),
    concurrency,
    async (t) => {
      const bytes = await read(t);
      if (!bytes) return;
      await againstParent(t, bytes);
      if (needed.has(`0/${t.index}`)) nodes.keep(0, t.index, bytes);
      const bundle = bundles.get(t.index);
      if (!input.entries || !bundle) return;
      const r = await checkBundle(input.fetchTile, bundle, bytes, cp.size, input.hasher ?? WEB_HASHER);
      progress();
      counts.entryBundles += r.problems.length ? 0 : 1;
      counts.entries += r.checked;
      for (const p of r.problems)
        f.add(p.level, "ERR_ENTRY_BUNDLE", p.message, {
          tile: tilePath(bundle),
          ...(p.seq !== undefined ? { seq: p.seq } : {}),
        });
    },
  );
  for (const t of hashTiles)
    if (t.level > 0 && nodes.has(t.level, t.index)) await againstParent(t, nodes.get(t.level, t.index)!);
  const levels = new Set(hashTiles.map((t) => t.level)).size;
  const tileProblems = f.problems.slice(from).filter((p) => p.code === "ERR_TILE").length;
  f.steps.push({
    name: "hash tiles",
    status: tileProblems
      ? f.problems.slice(from).some((p) => p.code === "ERR_TILE" && p.verdict === "FAILED")
        ? "failed"
        : "indeterminate"
      : "passed",
    detail: `${counts.hashTiles} of ${hashTiles.length} tiles on ${levels} level${levels > 1 ? "s" : ""}${tileProblems ? " read" : ": every full tile hashes to its hash one level up"}`,
  });
  if (input.entries) {
    const ps = f.problems.slice(bundleFrom).filter((p) => p.code === "ERR_ENTRY_BUNDLE");
    f.steps.push({
      name: "entry bundles",
      status: ps.some((p) => p.verdict === "FAILED") ? "failed" : ps.length ? "indeterminate" : "passed",
      detail: `${counts.entries} of ${cp.size} entries${ps.length ? " match" : ": each leaf hash is its level-0 tile's hash"}`,
    });
  }

  let root: Uint8Array;
  try {
    root = await rootFromNodes(cp.size, nodes);
  } catch {
    f.step("root", f.problems.length, "not computed: a tile it needs is missing or malformed", "skipped");
    return undefined;
  }
  const rootFrom = f.problems.length;
  const ok = bytesEqual(root, cp.root);
  if (!ok)
    f.add(
      "FAILED",
      "ERR_TREE_ROOT",
      `the tiles give the root ${base64Encode(root)} for size ${cp.size}, the checkpoint says ${base64Encode(cp.root)}`,
    );
  f.step("root", rootFrom, ok ? `the tiles give the checkpoint's root for size ${cp.size}` : "");
  return ok ? nodes : undefined;
}

/** `--since`: the tree the tiles give (already shown to be the checkpoint's) has the old checkpoint's root at its size. */
async function checkSince(
  input: CheckTilesInput,
  cp: TlogCheckpoint,
  old: TlogCheckpoint,
  tree: TileNodes | undefined,
  keys: NoteVerifierKey[],
  f: Findings,
): Promise<Pick<TilesReport, "since" | "evidence">> {
  const from = f.problems.length;
  const since = { size: old.size, root: base64Encode(old.root), consistent: false };
  if (old.size > cp.size) {
    f.add(
      "INDETERMINATE",
      "ERR_CONSISTENCY",
      `the published checkpoint (size ${cp.size}) is smaller than the --since checkpoint (size ${old.size}): a stale copy, or a log that went back; the tiles cannot show it extends it`,
    );
    f.step("since", from, "");
    return { since };
  }
  if (!tree) {
    f.step("since", from, "not checked: the tiles do not give the checkpoint's root", "skipped");
    return { since };
  }
  let proof: Bytes[] | undefined;
  let atOld: Uint8Array;
  try {
    proof = old.size > 0 && old.size < cp.size ? await buildProof(consistencyPlan(old.size, cp.size), tree) : undefined;
    atOld = old.size === 0 ? await emptyRoot() : old.size === cp.size ? cp.root : await rootFromNodes(old.size, tree);
  } catch {
    f.add(
      "INDETERMINATE",
      "ERR_CONSISTENCY",
      `not shown: a tile the tree at the --since size ${old.size} is computed from is not available`,
    );
    f.step("since", from, "");
    return { since };
  }
  let result;
  try {
    result = await checkSplitView(input.since!, input.checkpoint, keys, proof);
  } catch (e) {
    const code =
      e instanceof VerificationError && e.code === "ERR_NOTE_SIGNATURE" ? "ERR_LOG_SIGNATURE" : "ERR_MALFORMED";
    f.add("FAILED", code, `--since checkpoint: ${(e as Error).message.replace(/^(first|second) checkpoint: /, "")}`);
    f.step("since", from, "");
    return { since };
  }
  if (result.consistent) {
    f.step(
      "since",
      from,
      `size ${cp.size} extends the --since checkpoint of size ${old.size} (the tiles give its root)`,
    );
    return { since: { ...since, consistent: true } };
  }
  // The tiles give the signed root at cp.size, so the tree at old.size is fixed: another root there is a split view.
  const detail = `the log showed two histories: the tiles of its checkpoint of size ${cp.size} give the root ${base64Encode(atOld)} at size ${old.size}, the --since checkpoint says ${since.root}`;
  f.add("FAILED", "ERR_CONSISTENCY", detail);
  f.step("since", from, "");
  return { since, evidence: formatSplitViewEvidence(cp.origin, detail, result.older, result.newer, proof) };
}
