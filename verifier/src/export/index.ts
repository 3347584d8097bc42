/**
 * Export verification (`kakunin-log/1`): {@link verifyExport} over lines, and
 * {@link verifyExportBytes} over raw bytes (byte-reader.ts). The feeder (feeder.ts) hands lines to
 * the pool and results to the export verifier (export-verifier.ts), which judges them in order.
 */
import type { Report } from "../report.js";
import { ExportVerifier, type VerifyExportOptions } from "./export-verifier.js";
import { Feeder } from "./feeder.js";

export type { VerifyExportOptions };
export { verifyExportBytes } from "./byte-reader.js";

/**
 * Verifies an exported log (`kakunin-log/1` NDJSON) given as lines, streaming: memory stays flat
 * whatever the export's size. Every line is attacker-controlled; problems become coded errors and
 * per-entry findings, never exceptions (except a broken `lines` iterable itself).
 */
export async function verifyExport(
  lines: AsyncIterable<string> | Iterable<string>,
  opts: VerifyExportOptions,
): Promise<Report> {
  const f = new Feeder(new ExportVerifier(opts), opts);
  for await (const raw of lines as AsyncIterable<string>) {
    await f.line(raw);
    if (f.stopped) return f.v.finish();
  }
  return f.finish();
}
