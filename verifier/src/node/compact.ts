/**
 * A compact form for the results a Node worker sends back: entry results without lifecycle details
 * (nearly all of them) travel as columns (transferred typed arrays, a string table for the few
 * values that repeat — type, issuer, agent, signer — and the 64-hex hashes as ASCII bytes) instead
 * of one cloned object graph each. Everything else travels as is. The main thread reads neither an
 * entry's signature nor the recomputed hash (only hashOk and sigOk), so neither is sent.
 *
 * Results are added one at a time ({@link CompactEncoder}), so a worker never holds a whole
 * block's result objects (nor, through the hash substrings, the block's text): they die young,
 * which keeps garbage collection cheap.
 *
 * Leaf hashes are folded here into the largest perfect subtree of the block ending at each entry
 * (BlockSubtrees), so the main thread, which keeps the export's whole tree, hashes only across
 * block boundaries: the tree's hashing runs on the workers' cores.
 */
import { createHash } from "node:crypto";
import { BlockSubtrees } from "../formats/compact-range.js";
import { loadNative } from "./native.js";
import type { LineResults } from "../pool.js";
import type { EntryLineResult, LineResult } from "../worker-core.js";
import { HEX, LEAF, REFS, ROW, ResultColumns } from "./result-columns.js";

export interface CompactResults {
  /** One slot per line: the result itself, or 0 for the next compact entry. */
  results: (LineResult | 0)[];
  /** Per compact entry: seq, time. */
  nums: Float64Array;
  /**
   * Per compact entry: bit 0 hashOk; bits 1–2 sigOk (0 false, 1 true, 2 null); bit 3 a tree node is
   * in `leaves`; bits 4–7 its height (EntryLineResult.treeHeight).
   */
  flags: Uint8Array;
  /** Per compact entry: indexes into strs of type, issuer, agent, signer.cert, signer.key, signer.alg. */
  refs: Uint32Array;
  strs: string[];
  /** Per compact entry: payloadHash, prevHash, hash as ASCII (64 bytes each). */
  hashes: Uint8Array;
  /** Per compact entry: its RFC 9162 leaf hash or subtree root (32 bytes; zeros when flags bit 3 is clear). */
  leaves: Uint8Array;
  /** The block the results are for, handed back to be freed on the main thread (node/worker.ts). */
  spent?: Uint8Array;
}

const HAS_LEAF = 8;
/** Flags bits 4–7 hold a subtree height. */
const MAX_HEIGHT = 15;
const nodeSha256 = (d: Uint8Array) => {
  const h = createHash("sha256").update(d).digest();
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
};
let sha256 = nodeSha256;

/** Tree nodes hashed by the native addon when built and `on` (no Hash object per node), else node:crypto. */
export function useNativeTreeHash(on: boolean): void {
  const into = on ? loadNative()?.sha256Into : undefined;
  sha256 = into
    ? (d) => {
        const out = new Uint8Array(32);
        into(d, out);
        return out;
      }
    : nodeSha256;
}

/** Builds a {@link CompactResults} one result at a time. */
export class CompactEncoder {
  #results: (LineResult | 0)[] = [];
  #k = 0;
  /** The block's leaves folded into subtrees (one encoder per block: a run never spans two). */
  readonly #subtrees = new BlockSubtrees((d) => sha256(d), MAX_HEIGHT);
  readonly #cols = new ResultColumns();
  #strs: string[] = [];
  #index = new Map<string, number>();

  #ref(s: string): number {
    let j = this.#index.get(s);
    if (j === undefined) {
      j = this.#strs.length;
      this.#strs.push(s);
      this.#index.set(s, j);
    }
    return j;
  }

  /** Writes a 64-character ASCII hash at `at`; false (nothing meaningful written) otherwise. */
  #hash(s: string, at: number): boolean {
    if (s.length !== HEX) return false;
    const out = this.#cols.hashes;
    for (let i = 0; i < HEX; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) return false;
      out[at + i] = c;
    }
    return true;
  }

  add(r: LineResult): void {
    if (r.kind === "entry") {
      if (r.leafHash && Number.isSafeInteger(r.entry.seq)) {
        const { root, height } = this.#subtrees.add(r.entry.seq, r.leafHash);
        r.leafHash = root;
        if (height > 0) r.treeHeight = height;
      } else this.#subtrees.reset();
    }
    if (r.kind === "entry" && r.entry.details === undefined) {
      const cols = this.#cols;
      if (this.#k === cols.capacity) cols.reserve(this.#k + 1);
      const j = this.#k;
      const e = r.entry;
      const h = ROW * j;
      if (this.#hash(e.payloadHash, h) && this.#hash(e.prevHash, h + HEX) && this.#hash(e.hash, h + 2 * HEX)) {
        cols.nums[2 * j] = e.seq;
        cols.nums[2 * j + 1] = e.time;
        cols.flags[j] =
          (r.hashOk ? 1 : 0) |
          ((r.sigOk === null ? 2 : r.sigOk ? 1 : 0) << 1) |
          (r.leafHash ? HAS_LEAF : 0) |
          ((r.treeHeight ?? 0) << 4);
        if (r.leafHash) cols.leaves.set(r.leafHash, LEAF * j);
        const b = REFS * j;
        const refs = cols.refs;
        refs[b] = this.#ref(e.type);
        refs[b + 1] = this.#ref(e.issuer);
        refs[b + 2] = this.#ref(e.agent);
        refs[b + 3] = this.#ref(e.signer.cert);
        refs[b + 4] = this.#ref(e.signer.key);
        refs[b + 5] = this.#ref(e.signer.alg);
        this.#k++;
        this.#results.push(0);
        return;
      }
    }
    if (r.kind === "entry") {
      r.entry.sig = "";
      r.computedHash = "";
    }
    this.#results.push(r);
  }

  /** The message and the buffers to transfer with it; the encoder is spent afterwards. */
  finish(): { msg: CompactResults; transfer: ArrayBuffer[] } {
    const { arrays, transfer } = this.#cols.take(this.#k);
    return { msg: { results: this.#results, ...arrays, strs: this.#strs }, transfer };
  }
}

/** Encodes a whole array of results (see {@link CompactEncoder}). */
export function encodeResults(results: LineResult[]): { msg: CompactResults; transfer: ArrayBuffer[] } {
  const enc = new CompactEncoder();
  for (const r of results) enc.add(r);
  return enc.finish();
}

const ascii = new TextDecoder("latin1");

/**
 * The results of a {@link CompactResults} on the main thread, each built when asked for: the
 * export verifier takes them one by one, so each dies young (a block decoded whole as it arrives
 * would stay alive, and be copied by every young-generation collection, until its turn).
 */
export class CompactView implements LineResults {
  readonly #m: CompactResults;
  /** Per line: its compact entry's index, or -1 (the result is in m.results). */
  readonly #row: Int32Array;
  #hashes?: string;

  constructor(m: CompactResults) {
    this.#m = m;
    const row = new Int32Array(m.results.length);
    let j = 0;
    for (let i = 0; i < row.length; i++) row[i] = m.results[i] === 0 ? j++ : -1;
    this.#row = row;
  }

  get length(): number {
    return this.#row.length;
  }

  at(i: number): LineResult | undefined {
    if (i < 0 || i >= this.#row.length) return undefined;
    const j = this.#row[i]!;
    const m = this.#m;
    if (j < 0) return m.results[i] as LineResult;
    const { nums, flags, refs, strs } = m;
    // One string for the block's hashes; each hash is a slice of it.
    const hashes = (this.#hashes ??= ascii.decode(m.hashes));
    const b = REFS * j;
    const h = ROW * j;
    const f = flags[j]!;
    const sig = f >> 1;
    const entry: EntryLineResult = {
      kind: "entry",
      entry: {
        seq: nums[2 * j]!,
        time: nums[2 * j + 1]!,
        type: strs[refs[b]!]!,
        issuer: strs[refs[b + 1]!]!,
        agent: strs[refs[b + 2]!]!,
        signer: { cert: strs[refs[b + 3]!]!, key: strs[refs[b + 4]!]!, alg: strs[refs[b + 5]!]! },
        payloadHash: hashes.slice(h, h + HEX),
        prevHash: hashes.slice(h + HEX, h + 2 * HEX),
        hash: hashes.slice(h + 2 * HEX, h + ROW),
        sig: "",
      },
      computedHash: "",
      hashOk: (f & 1) === 1,
      sigOk: (sig & 3) === 2 ? null : (sig & 3) === 1,
    };
    if (f & HAS_LEAF) entry.leafHash = m.leaves.subarray(LEAF * j, LEAF * j + LEAF);
    if (f >> 4 > 0) entry.treeHeight = f >> 4;
    return entry;
  }
}

/** Decodes on the main thread into the LineResults verifyExport consumes (all at once: see {@link CompactView}). */
export function decodeResults(m: CompactResults): LineResult[] {
  const view = new CompactView(m);
  const out: LineResult[] = new Array(view.length);
  for (let i = 0; i < out.length; i++) out[i] = view.at(i)!;
  return out;
}
