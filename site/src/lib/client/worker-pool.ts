/** A SignaturePool over Web Workers: batches of export lines are verified in parallel off the main thread. */
import type { KeyTable, LineResult, SignaturePool } from "@kakunin/verifier";

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  busy: number;
}

export class WebWorkerPool implements SignaturePool {
  readonly concurrency: number;
  #slots: Slot[] = [];
  #pending = new Map<number, Pending & { slot: Slot }>();
  #nextId = 1;
  #broken: Error | null = null;

  constructor(size = Math.max(1, Math.min(8, (navigator.hardwareConcurrency || 2) - 0))) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./verify-worker.ts", import.meta.url), {
        type: "module",
        name: `kakunin-verify-${i}`,
      });
      const slot: Slot = { worker, busy: 0 };
      worker.onmessage = (e: MessageEvent) => {
        const d = e.data as { id: number; error?: string; results?: LineResult[]; ok?: boolean };
        const p = this.#pending.get(d.id);
        if (!p) return;
        this.#pending.delete(d.id);
        p.slot.busy--;
        if (d.error !== undefined) p.reject(new Error(d.error));
        else p.resolve(d.results ?? d.ok);
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#fail(new Error(`a verification worker failed: ${e.message || "unknown error"}`));
      };
      worker.onmessageerror = () => this.#fail(new Error("a verification worker sent an unreadable message"));
      this.#slots.push(slot);
    }
    this.concurrency = size * 2;
  }

  /** True once a worker failed: make a new pool. */
  get broken(): boolean {
    return this.#broken !== null;
  }

  get size(): number {
    return this.#slots.length;
  }

  #fail(err: Error): void {
    this.#broken = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #send<T>(slot: Slot, msg: Record<string, unknown>): Promise<T> {
    if (this.#broken) return Promise.reject(this.#broken);
    const id = this.#nextId++;
    slot.busy++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, slot });
      slot.worker.postMessage({ ...msg, id });
    });
  }

  async setKeys(keys: KeyTable): Promise<void> {
    const list = [...keys].map(([serial, der]) => [serial, new Uint8Array(der)] as [string, Uint8Array]);
    await Promise.all(this.#slots.map((s) => this.#send(s, { type: "keys", keys: list })));
  }

  verifyLines(lines: string[]): Promise<LineResult[]> {
    let best = this.#slots[0]!;
    for (const s of this.#slots) if (s.busy < best.busy) best = s;
    return this.#send<LineResult[]>(best, { type: "lines", lines });
  }

  close(): void {
    for (const s of this.#slots) s.worker.terminate();
    this.#slots = [];
    this.#fail(new Error("pool closed"));
  }
}
