/**
 * Per-origin state: one SQLite file per log origin (named by SHA-256 of the origin) holding the latest
 * cosigned checkpoint and the refused requests that carried a valid log signature (possible evidence).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

/** The latest checkpoint this witness cosigned for one origin. */
export interface Latest {
  size: number;
  root: Uint8Array;
  /** The checkpoint with the log's verified signatures and this witness's cosignature. */
  note: string;
}

/** A refused request whose log signature verified. */
export interface Refusal {
  status: number;
  reason: string;
  body: string;
}

/** Lowercase hex SHA-256 of the origin: the file name, and the monitoring path segment. */
export function originHash(origin: string): string {
  return createHash("sha256").update(origin, "utf8").digest("hex");
}

/** One origin's database. Writes are compare-and-set inside IMMEDIATE transactions. */
export class OriginStore {
  readonly #db: Database.Database;

  constructor(file: string, origin: string) {
    this.#db = new Database(file);
    this.#db.pragma("journal_mode = WAL");
    // FULL: a cosignature is only returned after its state is on disk.
    this.#db.pragma("synchronous = FULL");
    this.#db.pragma("busy_timeout = 5000");
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS meta (origin TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS latest (
        id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS refused (
        id INTEGER PRIMARY KEY, at TEXT NOT NULL, status INTEGER NOT NULL, reason TEXT NOT NULL, body TEXT NOT NULL);
    `);
    const row = this.#db.prepare("SELECT origin FROM meta").get() as { origin: string } | undefined;
    if (!row) this.#db.prepare("INSERT INTO meta (origin) VALUES (?)").run(origin);
    else if (row.origin !== origin) throw new Error(`${file} belongs to origin "${row.origin}", not "${origin}"`);
  }

  /** The latest cosigned checkpoint, or undefined if none. */
  latest(): Latest | undefined {
    const r = this.#db.prepare("SELECT size, root, note FROM latest WHERE id = 1").get() as
      { size: number; root: Buffer; note: string } | undefined;
    return r ? { size: r.size, root: new Uint8Array(r.root), note: r.note } : undefined;
  }

  /**
   * Replaces the latest checkpoint only if it is still the one the caller checked against (size
   * `expectedSize`, 0 meaning none or empty). Returns the size actually stored when it is not.
   */
  compareAndSet(expectedSize: number, next: Latest): { ok: true } | { ok: false; size: number } {
    const run = this.#db.transaction(() => {
      const cur = this.latest();
      const size = cur?.size ?? 0;
      if (size !== expectedSize || next.size < size) return { ok: false as const, size };
      this.#db
        .prepare(
          "INSERT INTO latest (id, size, root, note, updated_at) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, updated_at = excluded.updated_at",
        )
        .run(next.size, Buffer.from(next.root), next.note, new Date().toISOString());
      return { ok: true as const };
    });
    return run.immediate();
  }

  /** Keeps a refused request as evidence. */
  recordRefusal(r: Refusal): void {
    this.#db
      .prepare("INSERT INTO refused (at, status, reason, body) VALUES (?, ?, ?, ?)")
      .run(new Date().toISOString(), r.status, r.reason, r.body);
  }

  /** Refused requests, oldest first. */
  refusals(): (Refusal & { at: string })[] {
    return this.#db.prepare("SELECT at, status, reason, body FROM refused ORDER BY id").all() as (Refusal & {
      at: string;
    })[];
  }

  close(): void {
    this.#db.close();
  }
}

/** Opens origin stores lazily (only after a log signature verified, so strangers cannot create files). */
export class Stores {
  readonly #open = new Map<string, OriginStore>();
  constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  }

  /** The store of a verified origin, created on first use. */
  forOrigin(origin: string): OriginStore {
    const hash = originHash(origin);
    let s = this.#open.get(hash);
    if (!s) {
      s = new OriginStore(join(this.dataDir, `${hash}.sqlite`), origin);
      this.#open.set(hash, s);
    }
    return s;
  }

  /** The store for an origin hash if that origin was ever seen (for the monitoring endpoint). */
  byHash(hash: string): OriginStore | undefined {
    const open = this.#open.get(hash);
    if (open) return open;
    const file = join(this.dataDir, `${hash}.sqlite`);
    if (!existsSync(file)) return undefined;
    const origin = new Database(file, { readonly: true });
    const row = origin.prepare("SELECT origin FROM meta").get() as { origin: string } | undefined;
    origin.close();
    return row ? this.forOrigin(row.origin) : undefined;
  }

  closeAll(): void {
    for (const s of this.#open.values()) s.close();
    this.#open.clear();
  }
}
