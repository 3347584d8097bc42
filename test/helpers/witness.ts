import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { runProcess, type ProcessResult } from "./process.js";

/** A `kakunin-witness` child process (scripts/witness/main.ts) for integration tests. */
export interface WitnessProcess {
  url: string;
  vkey: string;
  pid: number;
  stderr(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(REPO_ROOT, "scripts", "witness", "main.ts");

/** Starts the witness with `args` (add --port 0); resolves once it printed its vkey and URL. */
export function startWitness(args: string[], env: NodeJS.ProcessEnv = {}): Promise<WitnessProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", MAIN, "--port", "0", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  let out = "";
  let err = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => { err += c; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`witness did not start\n${out}\n${err}`)); }, 30_000);
    const onExit = (code: number | null) => { clearTimeout(timer); reject(new Error(`witness exited (code ${code})\n${out}\n${err}`)); };
    child.once("exit", onExit);
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      const vkey = /^witness vkey: (\S+)$/m.exec(out);
      const url = /^witness listening: (\S+)$/m.exec(out);
      if (vkey && url) {
        clearTimeout(timer);
        child.removeListener("exit", onExit);
        const stopWith = async (sig: NodeJS.Signals) => {
          if (child.exitCode === null && child.signalCode === null) child.kill(sig);
          await exited;
        };
        resolve({ url: url[1]!.replace(/\/$/, ""), vkey: vkey[1]!, pid: child.pid!, stderr: () => err, stop: () => stopWith("SIGTERM"), kill: () => stopWith("SIGKILL") });
      }
    });
  });
}

/** Runs the witness expecting it to exit (bad configuration); returns code and output. */
export function runWitness(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
}
