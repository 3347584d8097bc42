/**
 * A compact form for the results a Node worker sends back: entry results without lifecycle details
 * (nearly all of them) travel as columns (transferred typed arrays, a string table for the few
 * values that repeat — type, issuer, agent, signer — and one string of the 64-hex hashes) instead
 * of one cloned object graph each. Everything else travels as is. The main thread reads neither an
 * entry's signature nor the recomputed hash (only hashOk and sigOk), so neither is sent.
 */
import type { EntryLineResult, LineResult } from "../worker-core.js";

export interface CompactResults {
  /** One slot per line: the result itself, or 0 for the next compact entry. */
  results: (LineResult | 0)[];
  /** Per compact entry: seq, time. */
  nums: Float64Array;
  /** Per compact entry: bit 0 hashOk; bits 1–2 sigOk (0 false, 1 true, 2 null). */
  flags: Uint8Array;
  /** Per compact entry: indexes into strs of type, issuer, agent, signer.cert, signer.key, signer.alg. */
  refs: Uint32Array;
  strs: string[];
  /** Per compact entry: payloadHash, prevHash, hash (64 characters each). */
  hashes: string;
}

const REFS = 6;
const HEX = 64;

/** Encodes in the worker; `transfer` lists the buffers to hand over with postMessage. */
export function encodeResults(results: LineResult[]): { msg: CompactResults; transfer: ArrayBuffer[] } {
  const compact: EntryLineResult[] = [];
  const out: (LineResult | 0)[] = new Array(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    const e = r.kind === "entry" ? r.entry : undefined;
    if (e && e.details === undefined && e.payloadHash.length === HEX && e.prevHash.length === HEX && e.hash.length === HEX) {
      compact.push(r as EntryLineResult);
      out[i] = 0;
    } else {
      if (r.kind === "entry") {
        r.entry.sig = "";
        r.computedHash = "";
      }
      out[i] = r;
    }
  }
  const k = compact.length;
  const nums = new Float64Array(2 * k);
  const flags = new Uint8Array(k);
  const refs = new Uint32Array(REFS * k);
  const strs: string[] = [];
  const index = new Map<string, number>();
  const ref = (s: string): number => {
    let j = index.get(s);
    if (j === undefined) {
      j = strs.length;
      strs.push(s);
      index.set(s, j);
    }
    return j;
  };
  const hashes: string[] = new Array(k);
  for (let j = 0; j < k; j++) {
    const r = compact[j]!;
    const e = r.entry;
    nums[2 * j] = e.seq;
    nums[2 * j + 1] = e.time;
    flags[j] = (r.hashOk ? 1 : 0) | ((r.sigOk === null ? 2 : r.sigOk ? 1 : 0) << 1);
    const b = REFS * j;
    refs[b] = ref(e.type);
    refs[b + 1] = ref(e.issuer);
    refs[b + 2] = ref(e.agent);
    refs[b + 3] = ref(e.signer.cert);
    refs[b + 4] = ref(e.signer.key);
    refs[b + 5] = ref(e.signer.alg);
    hashes[j] = e.payloadHash + e.prevHash + e.hash;
  }
  return { msg: { results: out, nums, flags, refs, strs, hashes: hashes.join("") }, transfer: [nums.buffer, flags.buffer, refs.buffer] };
}

/** Decodes on the main thread into the LineResults verifyExport consumes. */
export function decodeResults(m: CompactResults): LineResult[] {
  const { results, nums, flags, refs, strs, hashes } = m;
  const out: LineResult[] = new Array(results.length);
  let j = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (r !== 0) {
      out[i] = r;
      continue;
    }
    const b = REFS * j;
    const h = 3 * HEX * j;
    const f = flags[j]!;
    const sig = f >> 1;
    out[i] = {
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
        hash: hashes.slice(h + 2 * HEX, h + 3 * HEX),
        sig: "",
      },
      computedHash: "",
      hashOk: (f & 1) === 1,
      sigOk: sig === 2 ? null : sig === 1,
    };
    j++;
  }
  return out;
}
