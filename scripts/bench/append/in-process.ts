/** The appender without HTTP: AuditLog.appendOperation in this process over a real KMS process and SQLite. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalKms } from "../../../test/helpers/kms.js";
import { cpuSeconds, percentile, pidsByCmdline } from "../lib.js";

/** The appender alone (AuditLog.appendOperation in-process: no HTTP, no auth), real KMS process + SQLite. */
export async function inProcess(
  kmsMs: number,
  concurrency: number,
  seconds: number,
): Promise<{ rate: number; p50: number; p99: number; cpuMs: number; kmsCpuMs: number; avgBatch: number }> {
  const { loadConfig } = await import("../../../server/config.js");
  const { createLogger } = await import("../../../server/logger.js");
  const { startServices } = await import("../../../server/bootstrap.js");
  const kms = await startLocalKms({ latencyMs: kmsMs });
  const dir = mkdtempSync(join(tmpdir(), "kakunin-bench-inproc-"));
  const config = loadConfig({
    DATA_DIR: dir,
    KMS_ENDPOINT: kms.endpoint,
    KAKUNIN_OPERATOR_TOKEN: "kkn_op_bench-bench-bench-bench-bench-bench",
    KAKUNIN_SCHEDULER_INTERVAL_MS: "0",
  });
  const services = await startServices(config, createLogger("silent"), { kms: kms.client({ maxAttempts: 1 }) });
  try {
    const { deps } = services;
    const log = deps.log!;
    const { registerAgent } = await import("../../../server/authority/register-agent.js");
    const issuerId = `iss_${"b".repeat(32)}`;
    await deps.db
      .insertInto("issuers")
      .values({ id: issuerId, name: "Bench", created_at: new Date().toISOString() })
      .execute();
    const agents: string[] = [];
    for (let i = 0; i < 8; i++) agents.push((await registerAgent(deps, issuerId, `bench-${i}`)).id);
    const kmsPid = pidsByCmdline(kms.dataDir)[0];
    const lat: number[] = [];
    const k0 = kmsPid ? cpuSeconds(kmsPid) : NaN;
    const c0 = process.cpuUsage();
    const b0 = log.stats.batches;
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, c) => {
        for (let k = 0; performance.now() < end; k++) {
          const s = performance.now();
          await log.appendOperation(issuerId, agents[(c + k) % agents.length]!, {
            json: { c, k, note: "benchmark operation" },
          });
          lat.push(performance.now() - s);
        }
      }),
    );
    const el = (performance.now() - t0) / 1000;
    const cu = process.cpuUsage(c0);
    lat.sort((x, y) => x - y);
    return {
      rate: lat.length / el,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      cpuMs: (cu.user + cu.system) / 1000 / lat.length,
      kmsCpuMs: kmsPid ? ((cpuSeconds(kmsPid) - k0) * 1000) / lat.length : NaN,
      avgBatch: lat.length / Math.max(1, log.stats.batches - b0),
    };
  } finally {
    await services.deps.log?.close();
    await services.close();
    await kms.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
