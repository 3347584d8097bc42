import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** Starts the dev TSA (scripts/tsa/main.ts) as a real child process against a KMS endpoint. */
export interface DevTsa {
  url: string;
  pid: number;
  stderr(): string;
  stop(): Promise<void>;
}

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(REPO_ROOT, "scripts", "tsa", "main.ts");

export async function startDevTsa(kmsEndpoint: string, args: string[] = []): Promise<DevTsa> {
  const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KMS_"))), KMS_ENDPOINT: kmsEndpoint, KMS_REGION: "eu-west-1" };
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, "--port", "0", ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`dev TSA did not start\n${stderr}`));
    }, 30_000);
    child.stdout!.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
      const m = /Dev TSA listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`dev TSA exited (${code})\n${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
