/** Runs a CLI (kakunin or kakunin-verify) as a real child process. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
export const KAKUNIN_BIN = `${ROOT}client/bin/kakunin.js`;
export const VERIFY_BIN = `${ROOT}verifier/bin/kakunin-verify.js`;

export interface CliResult { code: number | null; stdout: string; stderr: string }

export function runBin(bin: string, args: string[], opts: { env?: Record<string, string | undefined>; input?: string | Buffer; cwd?: string } = {}): Promise<CliResult> {
  const env = Object.fromEntries(Object.entries({ ...process.env, ...opts.env }).filter(([k, v]) => v !== undefined && !(k.startsWith("KAKUNIN_") && !(opts.env && k in opts.env))));
  const child = spawn(process.execPath, [bin, ...args], { env: env as Record<string, string>, cwd: opts.cwd ?? ROOT, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => { stdout += c; });
  child.stderr.setEncoding("utf8").on("data", (c: string) => { stderr += c; });
  child.stdin.end(opts.input ?? "");
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}
