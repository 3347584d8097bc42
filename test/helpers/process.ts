/**
 * Child processes for tests: one run to its end with its output collected (CLIs, a witness with a
 * bad configuration), or a long-running one started until it says it is ready (local KMS, server,
 * dev TSA, witness).
 */
import { spawn, type ChildProcess } from "node:child_process";

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

/** Runs a program to its end and collects what it printed; resolves once the process has exited and its output streams are closed (all output read). */
export function runProcess(command: string, args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  const child = spawn(command, args, {
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  child.stdin.on("error", () => {}); // a program that exits without reading its input
  child.stdin.end(opts.input ?? "");
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running child (local KMS, server, TSA, witness) that said it is ready. */
export interface Daemon<T> {
  child: ChildProcess;
  pid: number;
  /** What the ready check found in its stdout (e.g. the URL it listens on). */
  ready: T;
  /** Everything it has printed so far. */
  stdout(): string;
  stderr(): string;
  /** Sends `signal` unless it has already exited, then waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface DaemonOptions<T> {
  /** Names it in errors ("local KMS", "Kakunin server", …). */
  name: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How long it may take to become ready; then it is killed and the start fails. */
  timeoutMs: number;
  /** Looks at its stdout so far: a value once it is ready, undefined until then. */
  ready(stdout: string): T | undefined;
  /** Called with the child before any output is read (e.g. to copy its output into a log file). */
  onSpawn?(child: ChildProcess): void;
  /** The error a failed start is reported as (default: Error). */
  error?(message: string): Error;
}

/** Spawns `command` and resolves once `ready` finds what it waits for in stdout; fails if it exits or times out first. */
export function startDaemon<T>(command: string, args: string[], opts: DaemonOptions<T>): Promise<Daemon<T>> {
  const child = spawn(command, args, {
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  opts.onSpawn?.(child);
  let stdout = "";
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      const message = `${opts.name} ${why}\nstdout:\n${stdout}\nstderr:\n${stderr}`;
      reject(opts.error ? opts.error(message) : new Error(message));
    };
    const timer = setTimeout(() => fail(`did not start within ${opts.timeoutMs} ms`), opts.timeoutMs);
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited early (code ${code}, signal ${signal})`);
    child.once("exit", onExit);
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      if (settled) return;
      const ready = opts.ready(stdout);
      if (ready === undefined) return;
      settled = true;
      clearTimeout(timer);
      child.removeListener("exit", onExit);
      resolve({
        child,
        pid: child.pid!,
        ready,
        stdout: () => stdout,
        stderr: () => stderr,
        stop: async (signal = "SIGTERM") => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}
