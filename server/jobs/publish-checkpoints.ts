/**
 * Cluster-wide checkpoint publication (when KAKUNIN_CHECKPOINT_INTERVAL_MS > 0): once per interval
 * across all instances, sign a checkpoint for every issuer whose chain grew since its last one, and
 * append it to the witness. Replaces the per-instance debounced publication, which would sign one
 * checkpoint per instance.
 */
import type { AppDeps } from "../deps.js";
import { every, runOnceAcrossInstances } from "./once.js";
import { WitnessedAuditLog } from "../scheduler/witness.js";

export interface CheckpointRun { published: string[]; frozen: string[] }

export async function publishDueCheckpoints(deps: AppDeps): Promise<CheckpointRun> {
  const out: CheckpointRun = { published: [], frozen: [] };
  const log = deps.log;
  if (!log) return out;
  const heads = await deps.db.selectFrom("chain_heads").select(["issuer_id", "size"]).execute();
  const latest = new Map((await deps.db.selectFrom("checkpoints").select(["issuer_id", (eb) => eb.fn.max("size").as("size")])
    .groupBy("issuer_id").execute()).map((r) => [r.issuer_id, Number(r.size)]));
  for (const h of heads) {
    if (Number(h.size) <= (latest.get(h.issuer_id) ?? -1)) continue;
    if (log instanceof WitnessedAuditLog && (await log.guard.status(h.issuer_id))) {
      out.frozen.push(h.issuer_id);
      continue;
    }
    try {
      await log.checkpoint(h.issuer_id); // signs, stores, and (WitnessedAuditLog) witnesses
      out.published.push(h.issuer_id);
    } catch (e) {
      deps.logger.warn({ issuer: h.issuer_id, err: { name: (e as Error).name, message: (e as Error).message } }, "checkpoint publication failed");
    }
  }
  return out;
}

export function startCheckpointScheduler(deps: AppDeps): () => Promise<void> {
  const interval = deps.config.checkpointIntervalMs;
  if (interval <= 0 || !deps.log) return async () => undefined;
  return every(interval, interval, () =>
    runOnceAcrossInstances(deps.db, "scheduler:checkpoints", interval, () => publishDueCheckpoints(deps))
      .catch((e) => deps.logger.error({ err: { name: (e as Error).name, message: (e as Error).message } }, "checkpoint run failed")));
}
