/**
 * Cost of key-usage monitoring: the per-agent detectors' time per observation (what each append
 * will pay once wired), and the local KMS's Sign rate and CPU per Sign with its CloudTrail log
 * files written and not (`--cloudtrail-dir off`), runs interleaved so drift hits both alike.
 * Args: [seconds per KMS run, default 3] [runs per setting, default 3].
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { AnomalyMonitor } from "../../server/monitoring/anomaly-monitor.js";
import type { SignObservation } from "../../server/monitoring/observation.js";
import { cpuSeconds, fmt, percentile, table } from "./lib.js";

export const description =
  "key-usage monitoring: detector µs per observation; local KMS Sign rate with and without CloudTrail files";

const KMS_MAIN = fileURLToPath(new URL("../kms/main.ts", import.meta.url));

function detectorCost(): { perObservationUs: number; agents: number } {
  const agents = 1000;
  const n = 1_000_000;
  const t0 = Date.parse("2024-05-06T08:00:00Z");
  const observations: SignObservation[] = Array.from({ length: n }, (_, i) => ({
    type: "sign",
    timeMs: t0 + i * 20,
    issuerId: `iss_${i % 10}`,
    agentId: `agt_${i % agents}`,
    keyArn: `arn:aws:kms:eu-west-1:111122223333:key/${i % agents}`,
    tokenId: `tok_${i % 3}`,
    sourceAddress: `203.0.113.${i % 5}`,
    requestId: `req-${i}`,
  }));
  const monitor = new AnomalyMonitor();
  for (const o of observations.slice(0, 100_000)) monitor.observe(o); // warm the JIT
  const fresh = new AnomalyMonitor();
  const started = performance.now();
  for (const o of observations) fresh.observe(o);
  return { perObservationUs: ((performance.now() - started) * 1000) / n, agents };
}

async function startKms(cloudTrail: boolean): Promise<{ endpoint: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-bench-kms-"));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KMS_")));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      KMS_MAIN,
      "--port",
      "0",
      "--data-dir",
      dir,
      "--cloudtrail-dir",
      cloudTrail ? join(dir, "cloudtrail") : "off",
    ],
    {
      env,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`local KMS exited early (${code})`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    endpoint,
    pid: child.pid!,
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function signRun(cloudTrail: boolean, seconds: number): Promise<{ rate: number; kmsCpuMs: number }> {
  const kms = await startKms(cloudTrail);
  const client = new KMSClient({
    endpoint: kms.endpoint,
    region: "eu-west-1",
    maxAttempts: 1,
    credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "local" },
  });
  try {
    const key = (await client.send(new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }))).KeyMetadata!
      .Arn!;
    const digest = new Uint8Array(32).fill(7);
    const sign = () =>
      client.send(
        new SignCommand({ KeyId: key, Message: digest, MessageType: "DIGEST", SigningAlgorithm: "RSASSA_PSS_SHA_256" }),
      );
    await Promise.all(Array.from({ length: 32 }, sign)); // warm-up
    let n = 0;
    const cpu0 = cpuSeconds(kms.pid);
    const end = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (performance.now() < end) {
          await sign();
          n++;
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    return { rate: n / elapsed, kmsCpuMs: ((cpuSeconds(kms.pid) - cpu0) * 1000) / n };
  } finally {
    client.destroy();
    await kms.stop();
  }
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 3);
  const runs = Number(args[1] ?? 3);
  const detectors = detectorCost();
  console.log(
    `detectors: ${fmt(detectors.perObservationUs, 2)} µs per observation (1,000,000 signs over ${detectors.agents} agents, one core)`,
  );

  const results: Record<"on" | "off", { rate: number; kmsCpuMs: number }[]> = { on: [], off: [] };
  for (let i = 0; i < runs; i++) {
    for (const setting of i % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
      results[setting].push(await signRun(setting === "on", seconds));
    }
  }
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  const row = (setting: "on" | "off") => [
    setting === "on" ? "CloudTrail files written" : "--cloudtrail-dir off",
    fmt(median(results[setting].map((r) => r.rate))),
    results[setting].map((r) => fmt(r.rate)).join(" / "),
    fmt(median(results[setting].map((r) => r.kmsCpuMs)), 3),
  ];
  console.log(table(["local KMS", "Sign/s (median)", "runs", "KMS CPU ms/Sign (median)"], [row("off"), row("on")]));
  const cost = median(results.on.map((r) => r.kmsCpuMs)) - median(results.off.map((r) => r.kmsCpuMs));
  console.log(
    `CloudTrail files cost ${fmt(cost * 1000, 1)} µs of KMS CPU per Sign (median difference; noise of a few µs either way is expected on a shared machine).`,
  );
}
