import { randomUUID } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { dirname, basename, join } from "node:path";

/**
 * Crash-safe file replacement: write a temp file (mode 0600), fsync it, rename over the target.
 * A reader never sees a half-written key or metadata file.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  const handle = await open(tmp, "wx", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await handle.close();
  await rename(tmp, path);
}

/**
 * Serialises writes per path so that concurrent updates cannot land out of order:
 * each queued write re-reads the latest state via `produce` when its turn comes.
 */
export class WriteQueue {
  private readonly tails = new Map<string, Promise<void>>();

  write(path: string, produce: () => string | Buffer): Promise<void> {
    const previous = this.tails.get(path) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => writeFileAtomic(path, produce()));
    this.tails.set(path, next);
    void next
      .finally(() => {
        if (this.tails.get(path) === next) this.tails.delete(path);
      })
      .catch(() => {});
    return next;
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}
