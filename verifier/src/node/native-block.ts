/**
 * A worker's block of export lines through the native addon's block path (native/kakunin_block.c):
 * entry lines exactly as the server writes them are recognised, hashed, verified and folded into
 * subtrees on the bytes, their fields written straight into the result columns (compact.ts), with
 * no string, object or promise per line. The first line that path does not take (any other shape,
 * kind, encoding, a CR, a blank) comes back here and goes through the general path (worker-core.ts)
 * as a result object; then the scan goes on after it.
 *
 * Same results as the JavaScript path, line by line: the native path takes only lines that
 * parse/entry-fast.ts takes too, and gives what it and the one-call verifyEntry give for them
 * (test/unit/verifier/native-block.test.ts and the fuzz suite check it on mutated exports).
 */
import { verifyBlockBytes, type KeyTable, type LineResult, type LineVerifier } from "../worker-core.js";
import type { CompactResults } from "./compact.js";
import type { NativeAddon } from "./native.js";
import { ResultColumns } from "./result-columns.js";

type BlockAddon = Required<
  Pick<NativeAddon, "keyTable" | "blockState" | "blockReset" | "scanEntries" | "subtreeAdd" | "subtreeReset">
>;

/** Why scanEntries stopped (ret[3]). */
const END = 0;
const FULL = 2;
/** String pairs scanEntries may report per call. */
const STR_PAIRS = 1024;

const latin1 = new TextDecoder("latin1");

/** Has the addon the block path? */
export function hasBlockPath(a: NativeAddon | undefined): a is NativeAddon & BlockAddon {
  return !!a && typeof a.scanEntries === "function" && typeof a.keyTable === "function";
}

/** One per worker: verifies blocks into {@link CompactResults}, the general path taking what the native one leaves. */
export class NativeBlockVerifier {
  readonly #a: BlockAddon;
  readonly #v: LineVerifier;
  readonly #decoder: TextDecoder;
  readonly #state: object;
  #table: object;
  readonly #cols = new ResultColumns();
  readonly #strOut = new Uint32Array(2 * STR_PAIRS);
  readonly #ret = new Float64Array(4);

  /** `v`: the worker's LineVerifier (same keys, see {@link setKeys}) for the lines the native path leaves. */
  constructor(a: BlockAddon, v: LineVerifier, decoder: TextDecoder) {
    this.#a = a;
    this.#v = v;
    this.#decoder = decoder;
    this.#state = a.blockState();
    this.#table = a.keyTable([]);
  }

  /** The signer keys (the LineVerifier's must be set to the same). */
  setKeys(keys: KeyTable): void {
    this.#table = this.#a.keyTable([...keys].map(([serial, der]) => [serial, new Uint8Array(der)]));
  }

  /** A block of whole lines ("\n"-separated): the message for the main thread and the buffers to transfer. */
  async verify(bytes: Uint8Array): Promise<{ msg: CompactResults; transfer: ArrayBuffer[] }> {
    const a = this.#a;
    const state = this.#state;
    const ret = this.#ret;
    const strOut = this.#strOut;
    const cols = this.#cols;
    a.blockReset(state);
    const results: (LineResult | 0)[] = [];
    const strs: string[] = [];
    let k = 0;
    // The shortest line the native path takes is over 300 bytes.
    cols.reserve(Math.ceil(bytes.length / 256) + 1, 0);
    for (let pos = 0; pos < bytes.length;) {
      a.scanEntries(
        this.#table,
        state,
        bytes,
        pos,
        k,
        cols.nums,
        cols.flags,
        cols.refs,
        cols.hashes,
        cols.leaves,
        strOut,
        ret,
      );
      for (let i = k; i < ret[1]!; i++) results.push(0);
      k = ret[1]!;
      for (let i = 0; i < ret[2]!; i++) {
        const at = strOut[2 * i]!;
        strs.push(latin1.decode(bytes.subarray(at, at + strOut[2 * i + 1]!)));
      }
      pos = ret[0]!;
      if (ret[3] === END) break;
      if (ret[3] === FULL) {
        cols.reserve(k + 1024, k);
        continue;
      }
      // A line for the general path: results as objects, its leaf folded into the same subtree run.
      const nl = bytes.indexOf(10, pos);
      const end = nl < 0 ? bytes.length : nl + 1;
      for (const r of await verifyBlockBytes(this.#v, bytes.subarray(pos, end), this.#decoder)) {
        if (r.kind === "entry") {
          const seq = r.entry.seq;
          if (r.leafHash && Number.isSafeInteger(seq) && seq >= 0) {
            const leaf = new Uint8Array(r.leafHash);
            const h = a.subtreeAdd(state, seq, leaf);
            r.leafHash = leaf;
            if (h > 0) r.treeHeight = h;
          } else a.subtreeReset(state);
          // The main thread reads neither (compact.ts).
          r.entry.sig = "";
          r.computedHash = "";
        }
        results.push(r);
      }
      pos = end;
    }
    const { arrays, transfer } = cols.take(k);
    return { msg: { results, ...arrays, strs }, transfer };
  }
}
