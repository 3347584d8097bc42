import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { startDaemon } from "./process.js";

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
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KMS_"))),
    KMS_ENDPOINT: kmsEndpoint,
    KMS_REGION: "eu-west-1",
  };
  const tsa = await startDaemon(process.execPath, ["--import", "tsx", MAIN, "--port", "0", ...args], {
    name: "dev TSA",
    cwd: REPO_ROOT,
    env,
    timeoutMs: 30_000,
    ready: (stdout) => /Dev TSA listening on (http:\/\/\S+)/.exec(stdout)?.[1],
  });
  return { url: tsa.ready, pid: tsa.pid, stderr: tsa.stderr, stop: () => tsa.stop("SIGTERM") };
}
