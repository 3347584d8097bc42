/** Runs a program to its end as a real child process and collects what it printed. */
import { spawn } from "node:child_process";

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed (default: stdin is closed at once). */
  input?: string | Buffer;
}

/** Resolves once the process has exited and its output streams are closed (all output read). */
export function runProcess(command: string, args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  const child = spawn(command, args, { ...(opts.env ? { env: opts.env } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}), stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => { stdout += c; });
  child.stderr.setEncoding("utf8").on("data", (c: string) => { stderr += c; });
  child.stdin.on("error", () => {}); // a program that exits without reading its input
  child.stdin.end(opts.input ?? "");
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
