/** What the verify benchmark times: openssl speed, the kakunin-verify CLI end to end, an openssl dgst shell loop. */
import { spawn, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { jcs } from "./generate-export.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const BIN = join(ROOT, "verifier", "bin", "kakunin-verify.js");

/** `openssl speed -seconds N -multi M rsa2048` → RSA-2048 verifies/s (all M processes). */
export function opensslVerifyRate(seconds: number, multi: number): number {
  const r = spawnSync(
    "openssl",
    ["speed", "-seconds", String(seconds), ...(multi > 1 ? ["-multi", String(multi)] : []), "rsa2048"],
    { encoding: "utf8" },
  );
  const m = [...`${r.stdout}\n${r.stderr}`.matchAll(/^rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+[\d.]+\s+([\d.]+)/gm)].at(
    -1,
  );
  if (!m) throw new Error(`could not parse openssl speed output:\n${r.stdout}\n${r.stderr}`);
  return Number(m[1]);
}

/** The CLI end to end, under /usr/bin/time -v when present (peak RSS), else its own --stats. */
export async function runCli(
  file: string,
  fp: string,
  workers: number | undefined,
  extra: string[] = [],
): Promise<{
  seconds: number;
  maxRssMb: number;
  exit: number | null;
  stdout: string;
  stats?: Record<string, number | string>;
}> {
  const args = [
    BIN,
    "log",
    file,
    "--ca-fingerprint",
    fp,
    "--no-progress",
    "--stats",
    ...(workers ? ["--workers", String(workers)] : []),
    ...extra,
  ];
  const timeBin = existsSync("/usr/bin/time");
  const [cmd, argv] = timeBin ? ["/usr/bin/time", ["-v", process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const child = spawn(cmd, argv as string[], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
  child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
  const exit = await new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const seconds = (performance.now() - t0) / 1000;
  const statsLine = /^kakunin-verify stats: (\{.*\})$/m.exec(stderr);
  const stats = statsLine ? (JSON.parse(statsLine[1]!) as Record<string, number | string>) : undefined;
  const timeRss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const maxRssMb = timeRss ? Number(timeRss[1]) / 1024 : Number(stats?.maxRssKb ?? NaN) / 1024;
  if (exit !== 0) process.stderr.write(stderr.slice(0, 4000));
  return { seconds, maxRssMb, exit, stdout, ...(stats ? { stats } : {}) };
}

/** A plain shell loop, one `openssl dgst -verify` per entry, over `k` entries spread through the file. */
export async function shellLoop(file: string, n: number, k: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-bench-dgst-"));
  try {
    const every = Math.max(1, Math.floor(n / k));
    const pubs = new Map<string, string>();
    const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    const list: string[] = [];
    for await (const line of rl) {
      if (line.startsWith('{"kind":"certificate"')) {
        const c = JSON.parse(line);
        const p = join(dir, `${c.serial}.pub.pem`);
        writeFileSync(p, new X509Certificate(c.pem).publicKey.export({ type: "spki", format: "pem" }));
        pubs.set(c.serial, p);
      } else if (line.startsWith('{"kind":"entry"')) {
        const { entry } = JSON.parse(line);
        if (entry.seq % every !== 0 || list.length >= k) continue;
        const { hash: _h, sig, ...rest } = entry;
        writeFileSync(join(dir, `${entry.seq}.jcs`), jcs(rest));
        writeFileSync(join(dir, `${entry.seq}.sig`), Buffer.from(sig, "base64"));
        list.push(`${entry.seq} ${pubs.get(entry.signer.cert)}`);
        if (list.length >= k) break;
      }
    }
    rl.close();
    writeFileSync(join(dir, "list"), list.join("\n") + "\n");
    const script = `cd "${dir}" && ok=0; while read seq pub; do openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -verify "$pub" -signature "$seq.sig" "$seq.jcs" >/dev/null && ok=$((ok+1)); done < list; echo $ok`;
    const t0 = performance.now();
    const r = spawnSync("sh", ["-c", script], { encoding: "utf8" });
    const seconds = (performance.now() - t0) / 1000;
    const ok = Number(r.stdout.trim());
    if (ok !== list.length) throw new Error(`openssl dgst verified ${ok} of ${list.length} sampled entries`);
    return list.length / seconds;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
