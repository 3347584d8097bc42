import { open, type FileHandle } from "node:fs/promises";

/**
 * Group commit for SQLite's write-ahead log: `fdatasync` of the WAL file on libuv's thread pool
 * instead of inside COMMIT on the event loop.
 *
 * With `synchronous = FULL`, every COMMIT fsyncs the WAL while the event loop waits (≈ 1.5–2 ms on
 * the VMs we measure on — at 60–100 batch commits a second, 10–20 % of the server's only thread).
 * A commit made with `synchronous = NORMAL` is written to the WAL but not synced; calling
 * {@link afterCommit} right after it returns a promise that settles once a datasync that started
 * after the commit has finished. Commits that land while a datasync is running share the next one.
 *
 * Why syncing the WAL file is enough: a commit is a run of frames appended to the WAL, ending in a
 * commit frame, each checksummed over its predecessors; recovery replays the valid prefix. Once the
 * file's data is on stable storage, so is the commit (and every earlier one). SQLite itself syncs
 * the WAL before each checkpoint copies it into the database file (`synchronous = NORMAL` does that
 * too), and the WAL file is only deleted when the last connection closes, so the descriptor opened
 * here keeps naming the live WAL while the database is open. SQLite holds no POSIX locks on the WAL
 * file, so opening and closing our own descriptor cannot drop its locks.
 *
 * A failed datasync is sticky: after an I/O error the kernel may have dropped the dirty pages, and
 * a later datasync that "succeeds" proves nothing about them (the lesson of PostgreSQL's 2018
 * fsync bug). Every waiting and later caller is rejected until the process restarts and SQLite
 * recovers from what is actually on disk.
 */
export class WalSync {
  #file: Promise<FileHandle> | undefined;
  #written = 0; // commits noted
  #synced = 0; // commits known to be on stable storage
  #waiters: { upTo: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #pump: Promise<void> | undefined;
  #failure: unknown;
  /** datasyncs completed (each one covers every commit noted before it started) */
  syncs = 0;

  constructor(private readonly walPath: string) {}

  /** Note a commit just written to the WAL; resolves once it is on stable storage. */
  afterCommit(): Promise<void> {
    this.#written++;
    return this.#waitFor(this.#written);
  }

  /** Resolves once every commit noted so far is on stable storage (at once if there is none). */
  flushed(): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return this.#synced >= this.#written ? Promise.resolve() : this.#waitFor(this.#written);
  }

  /** Waits for the syncs in progress, then closes the WAL descriptor. */
  async close(): Promise<void> {
    await this.#pump;
    const file = this.#file;
    this.#file = undefined;
    if (file) await (await file.catch(() => undefined))?.close();
  }

  #waitFor(upTo: number): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ upTo, resolve, reject }));
    this.#pump ??= this.#run().finally(() => (this.#pump = undefined));
    return done;
  }

  async #run(): Promise<void> {
    while (this.#synced < this.#written) {
      // Everything noted before this datasync starts is in the file, so the datasync covers it.
      const upTo = this.#written;
      try {
        this.#file ??= open(this.walPath, "r");
        await (await this.#file).datasync();
      } catch (e) {
        this.#failure = new WalSyncError(this.walPath, e);
        for (const w of this.#waiters.splice(0)) w.reject(this.#failure);
        return;
      }
      this.syncs++;
      this.#synced = upTo;
      const ready = this.#waiters.filter((w) => w.upTo <= upTo);
      this.#waiters = this.#waiters.filter((w) => w.upTo > upTo);
      for (const w of ready) w.resolve();
    }
  }
}

/** The WAL could not be synced: commits since the last good sync may not survive a power loss. */
export class WalSyncError extends Error {
  readonly code = "ERR_WAL_SYNC";
  constructor(walPath: string, cause: unknown) {
    super(`could not sync the write-ahead log ${walPath}; restart the server (SQLite recovers from what is on disk)`, {
      cause,
    });
  }
}
