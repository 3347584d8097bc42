import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { runProcess, startDaemon, type ProcessResult } from "./process.js";

/** A `kakunin-witness` child process (scripts/witness/main.ts) for integration tests. */
export interface WitnessProcess {
  url: string;
  vkey: string;
  pid: number;
  stderr(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** SIGSTOP: the process keeps its port (the kernel still accepts connections) but answers nothing. */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
}

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(REPO_ROOT, "scripts", "witness", "main.ts");

/** Starts the witness with `args` (add --port 0); resolves once it printed its vkey and URL. */
export async function startWitness(args: string[], env: NodeJS.ProcessEnv = {}): Promise<WitnessProcess> {
  const w = await startDaemon(process.execPath, ["--import", "tsx", MAIN, "--port", "0", ...args], {
    name: "witness",
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    timeoutMs: 30_000,
    ready: (stdout) => {
      const vkey = /^witness vkey: (\S+)$/m.exec(stdout);
      const url = /^witness listening: (\S+)$/m.exec(stdout);
      return vkey && url ? { url: url[1]!.replace(/\/$/, ""), vkey: vkey[1]! } : undefined;
    },
  });
  const alive = (): boolean => {
    try {
      process.kill(w.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    ...w.ready,
    pid: w.pid,
    stderr: w.stderr,
    // A paused process would hold SIGTERM until it is continued.
    stop: async () => {
      if (alive()) process.kill(w.pid, "SIGCONT");
      await w.stop("SIGTERM");
    },
    kill: () => w.stop("SIGKILL"),
    pause: () => {
      if (alive()) process.kill(w.pid, "SIGSTOP");
    },
    resume: () => {
      if (alive()) process.kill(w.pid, "SIGCONT");
    },
  };
}

/** Runs the witness expecting it to exit (bad configuration); returns code and output. */
export function runWitness(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
}
