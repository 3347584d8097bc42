import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export interface LeaseOptions {
  /** How long the lease is valid without renewal; a crashed holder is taken over after this. */
  ttlMs?: number;
  /** How long to wait for the lease before giving up (0 = try once). */
  waitMs?: number;
  pollMs?: number;
  now?: () => Date;
}

export class LeaseBusyError extends Error {
  constructor(name: string) {
    super(`Lease ${name} is held by another process`);
  }
}

/**
 * Try to take the lease `name` once: insert it, or take it over if it has expired. Portable SQL only:
 * a plain INSERT (unique violation = held) followed by a conditional UPDATE on `expires_at`.
 */
export async function tryAcquireLease(db: Kysely<Database>, name: string, owner: string, ttlMs: number, now: Date): Promise<boolean> {
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  try {
    await db.insertInto("leases").values({ name, owner, expires_at: expires }).execute();
    return true;
  } catch {
    // Held (or just inserted by someone else): take over only if expired.
  }
  const res = await db.updateTable("leases")
    .set({ owner, expires_at: expires })
    .where("name", "=", name)
    .where((eb) => eb.or([eb("expires_at", "<", now.toISOString()), eb("owner", "=", owner)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function releaseLease(db: Kysely<Database>, name: string, owner: string): Promise<void> {
  await db.deleteFrom("leases").where("name", "=", name).where("owner", "=", owner).execute();
}

/**
 * Run `fn` while holding the cross-process lease `name` (bootstrap, scheduled jobs). The lease is
 * renewed every ttl/3 while `fn` runs. Throws LeaseBusyError if it cannot be taken within waitMs.
 */
export async function withLease<T>(db: Kysely<Database>, name: string, fn: () => Promise<T>, opts: LeaseOptions = {}): Promise<T> {
  const ttlMs = opts.ttlMs ?? 60_000;
  const waitMs = opts.waitMs ?? 0;
  const pollMs = opts.pollMs ?? 100;
  const now = opts.now ?? (() => new Date());
  const owner = `${process.pid}-${randomBytes(8).toString("hex")}`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryAcquireLease(db, name, owner, ttlMs, now())) break;
    if (Date.now() >= deadline) throw new LeaseBusyError(name);
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const renew = setInterval(() => {
    void tryAcquireLease(db, name, owner, ttlMs, now()).catch(() => undefined);
  }, Math.max(1000, Math.floor(ttlMs / 3)));
  renew.unref();
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await releaseLease(db, name, owner).catch(() => undefined);
  }
}
