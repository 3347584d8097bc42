/**
 * Cluster-wide checkpoint publication (when KAKUNIN_CHECKPOINT_INTERVAL_MS > 0): once per interval
 * across all instances, sign a checkpoint for every issuer whose chain grew since its last one,
 * through the log (so the fork guard archives it). Replaces the per-instance debounced
 * publication, which would sign one checkpoint per instance.
 */
import type { AppDeps } from "../deps.js";
import { every, runOnceAcrossInstances } from "./once.js";

export interface CheckpointRun {
  published: string[];
  frozen: string[];
}

export async function publishDueCheckpoints(deps: AppDeps): Promise<CheckpointRun> {
  const out: CheckpointRun = { published: [], frozen: [] };
  const log = deps.log;
  if (!log) return out;
  const heads = await log.store.chainSizes();
  const latest = await log.store.latestCheckpointSizes();
  for (const h of heads) {
    if (h.size <= (latest.get(h.issuerId) ?? -1)) continue;
    if (await log.refusal(h.issuerId)) {
      out.frozen.push(h.issuerId);
      continue;
    }
    try {
      await log.checkpoint(h.issuerId); // signs, stores, and (the fork guard) archives
      out.published.push(h.issuerId);
    } catch (e) {
      deps.logger.warn(
        { issuer: h.issuerId, err: { name: (e as Error).name, message: (e as Error).message } },
        "checkpoint publication failed",
      );
    }
  }
  return out;
}

export function startCheckpointScheduler(deps: AppDeps): () => Promise<void> {
  const interval = deps.config.checkpointIntervalMs;
  if (interval <= 0 || !deps.log) return async () => undefined;
  return every(interval, interval, () =>
    runOnceAcrossInstances(deps.db, "scheduler:checkpoints", interval, () => publishDueCheckpoints(deps)).catch((e) =>
      deps.logger.error({ err: { name: (e as Error).name, message: (e as Error).message } }, "checkpoint run failed"),
    ),
  );
}
