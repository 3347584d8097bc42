/**
 * "Once across instances": a job runs under a database lease (one holder at a time, taken over when
 * a holder dies) and records when it last ran in `system`, so N instances ticking every `everyMs`
 * run it about once per `everyMs` in total — not N times.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { LeaseBusyError, withLease } from "../db/lease.js";

/** The job's value when it ran here; otherwise why not (another instance holds the lease, or ran it within the period). */
export type OnceResult<T> = { ran: true; value: T } | { ran: false; why: "lease-busy" | "ran-recently" };

/** Runs `fn` as job `name` unless another instance is running it or ran it less than 0.8 × `everyMs` ago. */
export async function runOnceAcrossInstances<T>(
  db: Kysely<Database>,
  name: string,
  everyMs: number,
  fn: () => Promise<T>,
  opts: { ttlMs?: number; now?: () => Date } = {},
): Promise<OnceResult<T>> {
  const key = `last_run:${name}`;
  const now = opts.now ?? (() => new Date());
  try {
    return await withLease(
      db,
      name,
      async (): Promise<OnceResult<T>> => {
        const last = (await db.selectFrom("system").select("value").where("name", "=", key).executeTakeFirst())?.value;
        // 0.8: instance timers drift; a run slightly early is better than skipping a whole period.
        if (last && now().getTime() - new Date(last).getTime() < everyMs * 0.8)
          return { ran: false, why: "ran-recently" };
        const value = await fn();
        const t = now().toISOString();
        await db
          .insertInto("system")
          .values({ name: key, value: t })
          .onConflict((oc) => oc.column("name").doUpdateSet({ value: t }))
          .execute();
        return { ran: true, value };
      },
      opts.ttlMs !== undefined ? { ttlMs: opts.ttlMs } : {},
    );
  } catch (e) {
    if (e instanceof LeaseBusyError) return { ran: false, why: "lease-busy" };
    throw e;
  }
}

/** A periodic timer that never overlaps itself. Returns a stop function that waits for a running tick. */
export function every(intervalMs: number, firstMs: number, tick: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<unknown> | undefined;
  const run = () => {
    if (running) return;
    running = tick().finally(() => {
      running = undefined;
    });
  };
  const first = setTimeout(run, firstMs);
  const timer = setInterval(run, intervalMs);
  first.unref?.();
  timer.unref?.();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
