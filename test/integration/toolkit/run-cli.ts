/** Runs a CLI (kakunin or kakunin-verify) as a real child process. */
import { fileURLToPath } from "node:url";
import { runProcess, type ProcessResult } from "../../helpers/process.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const KAKUNIN_BIN = `${ROOT}client/bin/kakunin.js`;
export const VERIFY_BIN = `${ROOT}verifier/bin/kakunin-verify.js`;

export type CliResult = ProcessResult;

export function runBin(
  bin: string,
  args: string[],
  opts: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string } = {},
): Promise<CliResult> {
  const env = Object.fromEntries(
    Object.entries({ ...process.env, ...opts.env }).filter(
      ([k, v]) => v !== undefined && !(k.startsWith("KAKUNIN_") && !(opts.env && k in opts.env)),
    ),
  );
  return runProcess(process.execPath, [bin, ...args], {
    env: env as Record<string, string>,
    cwd: opts.cwd ?? ROOT,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
}
