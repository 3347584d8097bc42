/**
 * The per-entry columns of a worker's compact results (compact.ts), shared by the two encoders that
 * fill them: the JavaScript one (CompactEncoder) and the native block path (native-block.ts, whose
 * C code writes rows in place). One row per compact entry.
 */

/** Refs per row: type, issuer, agent, signer.cert, signer.key, signer.alg (indexes into the string table). */
export const REFS = 6;
/** A hash as ASCII hex. */
export const HEX = 64;
/** Hash bytes per row: payloadHash, prevHash, hash. */
export const ROW = 3 * HEX;
/** Leaf bytes per row: the RFC 9162 leaf hash or subtree root. */
export const LEAF = 32;

/** The columns' arrays, as sent to the main thread. */
export interface ColumnArrays {
  /** seq, time */
  nums: Float64Array;
  flags: Uint8Array;
  refs: Uint32Array;
  hashes: Uint8Array;
  leaves: Uint8Array;
}

/** Growable columns, written row by row and sent as exact-size copies. */
export class ResultColumns implements ColumnArrays {
  nums = new Float64Array(0);
  flags = new Uint8Array(0);
  refs = new Uint32Array(0);
  hashes = new Uint8Array(0);
  leaves = new Uint8Array(0);
  capacity = 0;

  /** Room for at least `need` rows (growing at least twofold), keeping the first `keep`. */
  reserve(need: number, keep = this.capacity): void {
    if (need <= this.capacity) return;
    const cap = Math.max(need, 2 * this.capacity, 1024);
    const grow = <T extends Float64Array | Uint8Array | Uint32Array>(old: T, a: T, per: number): T => {
      a.set(old.subarray(0, keep * per));
      return a;
    };
    this.nums = grow(this.nums, new Float64Array(2 * cap), 2);
    this.flags = grow(this.flags, new Uint8Array(cap), 1);
    this.refs = grow(this.refs, new Uint32Array(REFS * cap), REFS);
    this.hashes = grow(this.hashes, new Uint8Array(ROW * cap), ROW);
    this.leaves = grow(this.leaves, new Uint8Array(LEAF * cap), LEAF);
    this.capacity = cap;
  }

  /** The first `k` rows as fresh arrays, and their buffers (to transfer: the columns stay reusable). */
  take(k: number): { arrays: ColumnArrays; transfer: ArrayBuffer[] } {
    const arrays = {
      nums: this.nums.slice(0, 2 * k),
      flags: this.flags.slice(0, k),
      refs: this.refs.slice(0, REFS * k),
      hashes: this.hashes.slice(0, ROW * k),
      leaves: this.leaves.slice(0, LEAF * k),
    };
    const { nums, flags, refs, hashes, leaves } = arrays;
    return { arrays, transfer: [nums.buffer, flags.buffer, refs.buffer, hashes.buffer, leaves.buffer] };
  }
}
