/**
 * The tiles job (KAKUNIN_TILES_DIR): keeps a folder copy of the published log (tiles-writer.ts) up
 * to date — after each checkpoint this instance stores (a checkpoint hook) and on a periodic sweep
 * that also picks up checkpoints other instances signed. One write at a time; failures are logged
 * and retried on the next round.
 */
import type { CheckpointHook } from "../log/tree/checkpoint-hooks.js";
import type { LogV2 } from "../log/tree/log-v2.js";
import { writeAllTiles } from "../log/tree/tiles-writer.js";

/** Sweep period when no checkpoint of this instance triggers a write. */
export const TILES_SWEEP_MS = 5000;

export class TilesJob implements CheckpointHook {
  readonly name = "tiles";
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly v2: LogV2,
    private readonly outDir: string,
    private readonly opts: { entries: boolean; logger?: { warn(o: object, msg: string): void } },
  ) {}

  start(): void {
    this.timer = setInterval(() => this.run(), TILES_SWEEP_MS);
    this.timer.unref();
    this.run();
  }

  onCheckpoint(): void {
    this.run();
  }

  /** Writes now, or once more after the running write. Resolves when the folder is current. */
  run(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await writeAllTiles(this.v2, this.outDir, { entries: this.opts.entries });
        } catch (e) {
          this.opts.logger?.warn({ err: e, dir: this.outDir }, "writing the tiles folder failed");
        }
      } while (this.again && !this.closed);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
