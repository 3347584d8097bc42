/** SignaturePool over Node worker_threads: one worker per core, batches round-robin. */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { LineResults, SignaturePool } from "../pool.js";
import type { KeyTable, LineResult } from "../worker-core.js";
import { CompactView, decodeResults, type CompactResults } from "./compact.js";

/**
 * Per-worker V8 heap limits. A worker holds at most a couple of batches (bounded in bytes by
 * verifyExport), so a small young generation keeps each thread's RSS low (~20 MB instead of ~90 MB
 * with V8's defaults) at no measurable cost in throughput; the old-generation cap is a safety net.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } as const;

interface Pending {
  /** Blocks' results are decoded as they are read (CompactView); batches' at once. */
  lazy: boolean;
  resolve(r: LineResults): void;
  reject(e: Error): void;
}

export class NodeWorkerPool implements SignaturePool {
  readonly size: number;
  readonly concurrency: number;
  /** The workers' RSA implementation (known after setKeys), e.g. "node:crypto". */
  crypto = "unknown";
  #workers: Worker[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 0;
  #rr = 0;

  /** `native: false`: the workers use node:crypto even when the native addon is built. */
  constructor(size = availableParallelism(), opts: { native?: boolean } = {}) {
    this.size = Math.max(1, size);
    // Four blocks per worker in flight: a worker still has work queued when this thread is slow to
    // be scheduled (a shared machine), for about 2 MB more memory.
    this.concurrency = this.size * 4;
    const url = new URL("./worker-entry.mjs", import.meta.url);
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(url, { resourceLimits: WORKER_LIMITS, workerData: { native: opts.native !== false } });
      w.on(
        "message",
        (m: { id: number; results?: LineResult[]; compact?: CompactResults; error?: string; crypto?: string }) => {
          const p = this.#pending.get(m.id);
          if (!p) return;
          if (m.crypto) this.crypto = m.crypto;
          this.#pending.delete(m.id);
          // The block itself is not kept while its results wait their turn: freed at the next young GC.
          if (m.compact) m.compact.spent = undefined;
          if (m.error !== undefined) p.reject(new Error(m.error));
          else
            p.resolve(m.compact ? (p.lazy ? new CompactView(m.compact) : decodeResults(m.compact)) : (m.results ?? []));
        },
      );
      w.on("error", (e) => this.#failAll(e));
      w.unref();
      this.#workers.push(w);
    }
  }

  #failAll(e: Error): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  #send<R extends LineResults = LineResult[]>(
    w: Worker,
    msg: object,
    transfer: ArrayBuffer[] = [],
    lazy = false,
  ): Promise<R> {
    const id = this.#nextId++;
    return new Promise<LineResults>((resolve, reject) => {
      this.#pending.set(id, { lazy, resolve, reject });
      w.ref();
      w.postMessage({ id, ...msg }, transfer);
    }).finally(() => {
      if (this.#pending.size === 0) for (const x of this.#workers) x.unref();
    }) as Promise<R>;
  }

  async setKeys(keys: KeyTable): Promise<void> {
    const list = [...keys].map(([k, v]) => [k, new Uint8Array(v)] as [string, Uint8Array]);
    await Promise.all(this.#workers.map((w) => this.#send(w, { type: "keys", keys: list })));
  }

  verifyLines(lines: string[]): Promise<LineResult[]> {
    const w = this.#workers[this.#rr++ % this.#workers.length]!;
    // One string crosses the thread boundary instead of one per line (far cheaper to clone); the
    // worker splits it again. Lines given to verifyExport by other callers may contain "\n": those
    // batches go as an array.
    for (let i = 0; i < lines.length; i++) if (lines[i]!.includes("\n")) return this.#send(w, { type: "lines", lines });
    return this.#send(w, { type: "text", text: lines.join("\n"), count: lines.length });
  }

  /** Hands the block's buffer to a worker (transferred, not copied, when the view spans all of it). */
  verifyBlock(bytes: Uint8Array): Promise<LineResults> {
    const w = this.#workers[this.#rr++ % this.#workers.length]!;
    const own =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
        ? bytes
        : bytes.slice();
    return this.#send<LineResults>(w, { type: "block", bytes: own }, [own.buffer as ArrayBuffer], true);
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
    this.#workers = [];
  }
}
