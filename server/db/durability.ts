import { sql, type Kysely, type Transaction } from "kysely";
import type { WalSync } from "./wal-sync.js";

/**
 * How the audit log's batch commits reach stable storage. The appender acknowledges an entry only
 * once `durable` has resolved, and readers of the log wait for {@link flushed}, so nothing is
 * acknowledged or shown that a power loss could take back.
 */
export interface CommitDurability {
  /** Runs `fn` in a write transaction; returns once it has committed, with `durable`, settled once the commit is on stable storage. */
  commit<DB, T>(
    db: Kysely<DB>,
    fn: (trx: Transaction<DB>) => Promise<T>,
  ): Promise<{ value: T; durable: Promise<void> }>;
  /** Resolves once every commit made through {@link commit} so far is on stable storage. */
  flushed(): Promise<void>;
  close(): Promise<void>;
}

const DONE = Promise.resolve();

/** The commit itself is durable (PostgreSQL; SQLite with `synchronous = FULL`). */
export const synchronousCommits: CommitDurability = {
  async commit(db, fn) {
    return { value: await db.transaction().execute(fn), durable: DONE };
  },
  flushed: () => DONE,
  close: async () => undefined,
};

/**
 * SQLite: the connection runs with `synchronous = FULL` (every other write is durable when its
 * COMMIT returns), but the log's batch commits switch to `NORMAL` — the COMMIT writes the WAL without
 * syncing it — and {@link WalSync} syncs the WAL off the event loop, one datasync for every batch
 * that committed meanwhile. The switch happens on the one connection, held exclusively from before
 * the pragma to after it is restored, so no other statement ever commits under `NORMAL`.
 */
export function deferredWalSync(wal: WalSync): CommitDurability {
  return {
    async commit(db, fn) {
      let durable!: Promise<void>;
      const value = await db.connection().execute(async (conn) => {
        // The safety level cannot change inside a transaction: set it around it.
        await sql`pragma synchronous = NORMAL`.execute(conn);
        try {
          const v = await conn.transaction().execute(fn);
          // Noted while the connection is still ours: no reader can see this commit before it is
          // noted, so a reader's flushed() after its read always covers what it read.
          durable = wal.afterCommit();
          return v;
        } finally {
          await sql`pragma synchronous = FULL`.execute(conn);
        }
      });
      return { value, durable };
    },
    flushed: () => wal.flushed(),
    close: () => wal.close(),
  };
}
