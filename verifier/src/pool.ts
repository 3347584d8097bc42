/** Where the per-entry work runs. The main thread only checks order and links. */
import { LineVerifier, type KeyTable, type LineResult } from "./worker-core.js";

/**
 * Results for consecutive lines, in order: an array, or a view that builds each result when it is
 * asked for (the Node pool's, node/compact.ts), so a block's results need not all live at once.
 */
export interface LineResults {
  readonly length: number;
  at(i: number): LineResult | undefined;
}

/**
 * A pool that verifies batches of export lines. Implementations: {@link InThreadPool} (default),
 * the Node worker_threads pool (`src/node/worker-pool.ts`), and the portal's Web Worker pool.
 * Each worker should run a {@link LineVerifier} from `worker-core.ts`.
 */
export interface SignaturePool {
  /** Sets the signer keys (serial → SPKI DER) that following batches verify against. */
  setKeys(keys: KeyTable): Promise<void> | void;
  /** Verifies a batch of raw lines; resolves with one result per line, in order. */
  verifyLines(lines: string[]): Promise<LineResult[]>;
  /**
   * Optional: verifies a block of whole lines given as UTF-8 bytes ("\n"-separated, ending with
   * "\n"); resolves with one result per line, blank lines included (`kind: "blank"`). The pool may
   * take ownership of `bytes` (e.g. transfer it to a worker). See `verifyExportBytes`.
   */
  verifyBlock?(bytes: Uint8Array): Promise<LineResults>;
  /** Suggested number of batches in flight (e.g. 2 × workers). */
  readonly concurrency?: number;
  /** Releases workers. verifyExport does not call it: the pool's owner does. */
  close?(): Promise<void> | void;
}

/** Runs the work on the calling thread (WebCrypto still overlaps operations asynchronously). */
export class InThreadPool implements SignaturePool {
  readonly concurrency = 2;
  #v = new LineVerifier();
  setKeys(keys: KeyTable): void {
    this.#v.setKeys(keys);
  }
  verifyLines(lines: string[]): Promise<LineResult[]> {
    return this.#v.verifyLines(lines);
  }
}
