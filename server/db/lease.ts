/**
 * Cross-process leases (bootstrap, scheduled jobs, per-agent lifecycle locks) in the `leases` table.
 *
 * A holder that dies must not block the others for long:
 *  - leases are short (DEFAULT_LEASE_TTL_MS) and renewed every ttl/3 while the holder works, so a
 *    holder on another host that vanished is taken over within one TTL;
 *  - the owner id names the holder's host boot (Linux boot id, else the hostname) and pid, so on the
 *    same host a holder whose process is gone (kill -9, OOM) is taken over at once, without waiting
 *    for its TTL.
 * A wait for a lease held by a live owner is logged (once per acquisition), and so is a takeover.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Default lease lifetime without renewal: how long a vanished holder on another host blocks. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

export interface LeaseLogger {
  info(o: object, msg: string): void;
  warn(o: object, msg: string): void;
}

export interface LeaseOptions {
  /** How long the lease is valid without renewal; a crashed holder is taken over after this. */
  ttlMs?: number;
  /** How long to wait for the lease before giving up (0 = try once). */
  waitMs?: number;
  pollMs?: number;
  now?: () => Date;
  /** Where waits and takeovers are reported. */
  logger?: LeaseLogger;
}

export class LeaseBusyError extends Error {
  constructor(name: string) {
    super(`Lease ${name} is held by another process`);
  }
}

/** This boot of this host: the kernel's boot id where there is one (Linux), else the hostname. */
function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return `host-${hostname()}`;
  }
}
const BOOT = bootId();

/** `<boot id>/<pid>/<random>`: who holds a lease, and enough to tell whether it is still alive. */
export function leaseOwner(pid = process.pid): string {
  return `${BOOT}/${pid}/${randomBytes(8).toString("hex")}`;
}

/** True if `owner` is a process of this host's current boot that no longer exists. */
export function ownerIsDead(owner: string): boolean {
  const [boot, pidText] = owner.split("/");
  if (boot !== BOOT || pidText === undefined || !/^\d+$/.test(pidText)) return false; // another host (or an old-format owner): wait for its TTL
  const pid = Number(pidText);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === "ESRCH";
  }
}

/**
 * Try to take the lease `name` once: insert it, or take it over if it has expired or its holder is
 * a dead process of this host. Portable SQL only: a plain INSERT (unique violation = held) followed
 * by a conditional UPDATE. Returns the previous holder when it was taken over from a dead one.
 */
export async function tryAcquireLease(
  db: Kysely<Database>,
  name: string,
  owner: string,
  ttlMs: number,
  now: Date,
): Promise<boolean | { tookOverFrom: string }> {
  const expires = new Date(now.getTime() + ttlMs).toISOString();
  try {
    await db.insertInto("leases").values({ name, owner, expires_at: expires }).execute();
    return true;
  } catch {
    // Held (or just inserted by someone else): take over only if expired, ours, or its holder is dead.
  }
  const res = await db
    .updateTable("leases")
    .set({ owner, expires_at: expires })
    .where("name", "=", name)
    .where((eb) => eb.or([eb("expires_at", "<", now.toISOString()), eb("owner", "=", owner)]))
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 1) return true;
  const held = await db.selectFrom("leases").select("owner").where("name", "=", name).executeTakeFirst();
  if (!held || !ownerIsDead(held.owner)) return false;
  const taken = await db
    .updateTable("leases")
    .set({ owner, expires_at: expires })
    .where("name", "=", name)
    .where("owner", "=", held.owner)
    .executeTakeFirst();
  return Number(taken.numUpdatedRows) === 1 ? { tookOverFrom: held.owner } : false;
}

export async function releaseLease(db: Kysely<Database>, name: string, owner: string): Promise<void> {
  await db.deleteFrom("leases").where("name", "=", name).where("owner", "=", owner).execute();
}

/**
 * Run `fn` while holding the cross-process lease `name`. The lease is renewed every ttl/3 while
 * `fn` runs. Throws LeaseBusyError if it cannot be taken within waitMs.
 */
export async function withLease<T>(
  db: Kysely<Database>,
  name: string,
  fn: () => Promise<T>,
  opts: LeaseOptions = {},
): Promise<T> {
  const ttlMs = opts.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const waitMs = opts.waitMs ?? 0;
  const pollMs = opts.pollMs ?? 100;
  const now = opts.now ?? (() => new Date());
  const owner = leaseOwner();
  const deadline = Date.now() + waitMs;
  let waitLogged = false;
  for (;;) {
    const got = await tryAcquireLease(db, name, owner, ttlMs, now());
    if (got) {
      if (typeof got === "object")
        opts.logger?.warn({ lease: name, previousOwner: got.tookOverFrom }, "lease taken over from a dead process");
      break;
    }
    if (Date.now() >= deadline) throw new LeaseBusyError(name);
    if (!waitLogged && opts.logger) {
      waitLogged = true;
      const held = await db
        .selectFrom("leases")
        .select(["owner", "expires_at"])
        .where("name", "=", name)
        .executeTakeFirst()
        .catch(() => undefined);
      opts.logger.info(
        { lease: name, owner: held?.owner, expiresAt: held?.expires_at, waitMs },
        "waiting for a lease held by another process",
      );
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const renew = setInterval(
    () => {
      void tryAcquireLease(db, name, owner, ttlMs, now()).catch(() => undefined);
    },
    Math.max(1000, Math.floor(ttlMs / 3)),
  );
  renew.unref();
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await releaseLease(db, name, owner).catch(() => undefined);
  }
}
