import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { SigningAlgorithm } from "../key-specs.js";
import type { MessageType } from "./sign.js";
import type { JobReply, WorkerJob, WorkerReply, WorkerRequest } from "./worker-protocol.js";

/**
 * A small pool of worker threads doing the private-key operations, so the HTTP event loop
 * never blocks on RSA. Each worker caches parsed keys; key material is sent to a worker
 * only the first time it needs that key. Jobs submitted in the same event loop turn go to a worker
 * as one message, and it answers them with one message.
 */
interface Slot {
  worker: Worker;
  ready: Promise<void>;
  loadedKeys: Set<string>;
  pending: Map<number, { resolve: (r: JobReply & { ok: true }) => void; reject: (e: Error) => void }>;
  /** jobs not posted yet (posted together at the end of this event loop turn) */
  outbox: WorkerJob[];
}

export interface PoolJob {
  keyId: string;
  privateKeyDer: Buffer;
  algorithm: SigningAlgorithm;
  messageType: MessageType;
  message: Buffer;
}

export class SigningPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  /** Resolves once every worker has loaded its module (so the first request is not slowed). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** The signature, base64-encoded (as the Sign response carries it). */
  async sign(job: PoolJob): Promise<string> {
    const reply = await this.run("sign", job);
    if (!reply.signature) throw new Error("worker returned no signature");
    return reply.signature;
  }

  async verify(job: PoolJob & { signature: Buffer }): Promise<boolean> {
    const reply = await this.run("verify", job);
    return reply.valid === true;
  }

  /** Drops a deleted key from every worker's cache. */
  forget(keyId: string): void {
    for (const slot of this.slots) {
      if (!slot.loadedKeys.delete(keyId)) continue;
      this.flush(slot); // jobs queued before the deletion still find the key
      slot.worker.postMessage({ id: -1, op: "forget", keyId } satisfies WorkerRequest);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private run(op: WorkerJob["op"], job: PoolJob & { signature?: Buffer }): Promise<JobReply & { ok: true }> {
    if (this.closed) return Promise.reject(new Error("signing pool closed"));
    // Least-loaded worker (chosen and charged synchronously, so a burst spreads over the workers):
    // keeps both cores busy under concurrent load. Messages posted before a worker has loaded its
    // module wait in its port.
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    // Copies: small Buffers are views into Node's shared 8 KiB pool, and postMessage would clone
    // the whole pool (other requests' bytes included) for each of them.
    const request: WorkerJob = {
      id: this.nextId++,
      op,
      keyId: job.keyId,
      algorithm: job.algorithm,
      messageType: job.messageType,
      message: new Uint8Array(job.message),
      signature: job.signature && new Uint8Array(job.signature),
    };
    if (!slot.loadedKeys.has(job.keyId)) {
      request.privateKeyDer = job.privateKeyDer;
      slot.loadedKeys.add(job.keyId);
    }
    return new Promise((resolve, reject) => {
      slot.pending.set(request.id, { resolve, reject });
      if (slot.outbox.push(request) === 1) setImmediate(() => this.flush(slot));
    });
  }

  private flush(slot: Slot): void {
    const jobs = slot.outbox.splice(0);
    if (jobs.length) slot.worker.postMessage(jobs satisfies WorkerRequest);
  }

  private spawn(): Slot {
    // Workers do not inherit tsx's loader hooks, so register tsx inside the worker before
    // importing the TypeScript worker module.
    const tsxApi = import.meta.resolve("tsx/esm/api");
    const entry = new URL("./sign-worker.ts", import.meta.url).href;
    const source = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
    const worker = new Worker(source, { eval: true });
    worker.unref();
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    const slot: Slot = {
      worker,
      ready: new Promise<void>((res, rej) => ((markReady = res), (failReady = rej))),
      loadedKeys: new Set(),
      pending: new Map(),
      outbox: [],
    };
    slot.ready.catch(() => {}); // surfaced through run() instead
    worker.on("message", (replies: WorkerReply) => {
      if (!Array.isArray(replies)) return markReady();
      for (const reply of replies) {
        const waiter = slot.pending.get(reply.id);
        slot.pending.delete(reply.id);
        if (reply.ok) waiter?.resolve(reply);
        else waiter?.reject(new Error(`signing worker failed: ${reply.error}`));
      }
    });
    let dead = false;
    const onDeath = (err: Error) => {
      if (dead) return; // "error" is followed by "exit"
      dead = true;
      failReady(err);
      for (const waiter of slot.pending.values()) waiter.reject(err);
      slot.pending.clear();
      if (this.closed) return;
      // Replace a crashed worker so one bad job cannot take the pool down.
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn();
    };
    worker.on("error", onDeath);
    worker.on("exit", (code) => onDeath(new Error(`signing worker exited with code ${code}`)));
    return slot;
  }
}
