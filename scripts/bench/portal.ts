/**
 * Portal bench: verifying a 100,000-entry export in the browser (the portal's log page, Web Workers,
 * Debian's Chromium via Playwright) beside the CLI (`kakunin-verify log`, worker threads), plus the
 * gzipped JavaScript each verify page ships.
 *
 *   npm run bench -- portal [--entries N] [--regenerate]
 *
 * The export is synthesised per FORMATS.md with an in-memory test PKI (RSA-2048, RSASSA-PSS salt 32;
 * test/unit/verifier/fixtures) and cached in .data/bench/ (public material only; regenerated when
 * older than 6 days so its CRL stays fresh). Generating 100,000 signatures takes about a minute.
 */
import { spawn } from "node:child_process";
import { createHash, webcrypto } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import canonicalize from "canonicalize";
import { certificateLine, exportHeaderLine, fmt, table } from "./lib.js";
import { ZERO_HASH } from "../../verifier/src/formats/hash.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = process.env.KAKUNIN_CHROMIUM ?? "/usr/bin/chromium";
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export const description =
  "browser verification of a 100,000-entry export (portal, Web Workers) vs the CLI; JS per verify page";

const jcs = (v: unknown) => Buffer.from(canonicalize(v)!, "utf8");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** Writes an N-entry export (4 agents round-robin after their registrations) and returns its CA PEM. */
async function generateExport(path: string, n: number): Promise<void> {
  const { makeCa, issueAgent, issueLogSigner, makeCrl } = await import("../../test/unit/verifier/fixtures/pki.js");
  const ca = await makeCa("Kakunin Bench CA");
  const log = await issueLogSigner(ca);
  const agents = await Promise.all(
    ["agt_bench0", "agt_bench1", "agt_bench2", "agt_bench3"].map((a) => issueAgent(ca, a)),
  );
  const crl = await makeCrl(ca, [], 1);
  const issuer = "iss_bench";
  const start = Date.now() - 2 * 3_600_000; // all entries within the last two hours
  const step = Math.max(1, Math.floor(3_600_000 / n));
  const out = createWriteStream(path);
  const write = (s: string) =>
    new Promise<void>((res) => (out.write(s + "\n") ? res() : out.once("drain", () => res())));
  await write(exportHeaderLine(issuer, n, ca.pem));
  for (const c of [log, ...agents]) {
    await write(certificateLine(c));
  }
  await write(JSON.stringify({ kind: "crl", pem: crl }));
  let prev = ZERO_HASH;
  const BATCH = 512;
  const t0 = performance.now();
  for (let from = 0; from < n; from += BATCH) {
    const bodies: { body: Record<string, unknown>; bytes: Buffer; key: CryptoKey }[] = [];
    for (let seq = from; seq < Math.min(n, from + BATCH); seq++) {
      const reg = seq < agents.length;
      const agent = agents[seq % agents.length]!;
      const signer = reg ? log : agent;
      const details = reg ? { cert: agent.serial } : { contentType: "application/json" };
      const payloadHash = reg
        ? sha256(jcs(details))
        : sha256(jcs({ op: "transfer", n: seq, amount: (seq * 7919) % 100_000 }));
      const body = {
        v: 1,
        seq,
        time: new Date(start + seq * step).toISOString(),
        type: reg ? "agent.registered" : "agent.operation",
        issuer,
        agent: agent.agent,
        signer: { cert: signer.serial, key: signer.keyArn, alg: "RSASSA_PSS_SHA_256" },
        payloadHash,
        prevHash: prev,
        details,
      };
      const bytes = jcs(body);
      prev = sha256(bytes);
      bodies.push({ body, bytes, key: signer.keys.privateKey });
    }
    const sigs = await Promise.all(
      bodies.map((b) => webcrypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, b.key, b.bytes)),
    );
    for (let i = 0; i < bodies.length; i++) {
      const { body, bytes } = bodies[i]!;
      await write(
        JSON.stringify({
          kind: "entry",
          entry: { ...body, hash: sha256(bytes), sig: Buffer.from(sigs[i]!).toString("base64") },
        }),
      );
    }
    if ((from / BATCH) % 20 === 0)
      process.stdout.write(
        `\r  generating: ${Math.min(n, from + BATCH).toLocaleString("en")} / ${n.toLocaleString("en")} entries (${fmt((performance.now() - t0) / 1000, 0)} s)`,
      );
  }
  const cpBody = {
    issuer,
    size: n,
    head: prev,
    time: new Date().toISOString(),
    signer: { cert: log.serial, key: log.keyArn, alg: "RSASSA_PSS_SHA_256" },
  };
  const cpSig = await webcrypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, log.keys.privateKey, jcs(cpBody));
  await write(
    JSON.stringify({ kind: "checkpoint", checkpoint: { ...cpBody, sig: Buffer.from(cpSig).toString("base64") } }),
  );
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  process.stdout.write(
    `\r  generated ${n.toLocaleString("en")} entries in ${fmt((performance.now() - t0) / 1000, 1)} s${" ".repeat(20)}\n`,
  );
}

/** The public parts the portal and the CLI need, read back from the export's header and CRL lines. */
async function publicPartsOf(path: string): Promise<{ caPem: string; crlPem: string; fingerprint: string }> {
  const text = await readFile(path, "utf8");
  let caPem = "";
  let crlPem = "";
  let i = 0;
  for (let k = 0; k < 10 && i < text.length; k++) {
    const nl = text.indexOf("\n", i);
    const line = JSON.parse(text.slice(i, nl));
    if (line.kind === "header") caPem = line.caCertificate;
    if (line.kind === "crl") crlPem = line.pem;
    i = nl + 1;
  }
  const der = Buffer.from(caPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return { caPem, crlPem, fingerprint: sha256(der) };
}

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code: code ?? -1, out, ms: performance.now() - t0 }));
  });
}

export async function run_(args: string[]): Promise<void> {
  const nIdx = args.indexOf("--entries");
  const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 100_000;
  if (!Number.isInteger(n) || n < 5) throw new Error("--entries must be an integer ≥ 5");
  const benchDir = join(ROOT, ".data", "bench");
  await mkdir(benchDir, { recursive: true });
  const exportPath = join(benchDir, `portal-export-${n}.ndjson`);
  const st = await stat(exportPath).catch(() => null);
  if (!st || args.includes("--regenerate") || Date.now() - st.mtimeMs > 6 * 86_400_000) {
    console.log(`Generating a ${n.toLocaleString("en")}-entry export (${cpus().length} cores)…`);
    await generateExport(exportPath, n);
  } else console.log(`Using the cached export ${exportPath}`);
  const size = (await stat(exportPath)).size;
  const { caPem, crlPem, fingerprint } = await publicPartsOf(exportPath);

  const tmp = await mkdtemp(join(tmpdir(), "kakunin-bench-portal-"));
  try {
    const caFile = join(tmp, "ca.pem");
    await writeFile(caFile, caPem);

    // CLI: the real command line, all cores.
    console.log("CLI: kakunin-verify log …");
    const cli = await run(process.execPath, [
      join(ROOT, "verifier/bin/kakunin-verify.js"),
      "log",
      exportPath,
      "--ca",
      caFile,
      "--no-progress",
      "--json",
    ]);
    let cliVerdict = "?";
    try {
      cliVerdict = JSON.parse(cli.out.slice(cli.out.indexOf("{"))).verdict;
    } catch {
      cliVerdict = `exit ${cli.code}`;
    }

    // Portal: build with a directory naming the bench CA, serve, verify in Chromium.
    const directoryFile = join(tmp, "directory.json");
    await writeFile(
      directoryFile,
      JSON.stringify({
        generatedAt: new Date().toISOString(),
        ca: { pem: caPem, fingerprintSha256: fingerprint },
        crl: { pem: crlPem },
        issuers: [],
        agents: [],
      }),
    );
    const outDir = join(tmp, "dist");
    console.log("Portal: astro build …");
    const build = await run(process.execPath, [join(ROOT, "node_modules/astro/astro.js"), "build", "--silent"], {
      ASTRO_TELEMETRY_DISABLED: "1",
      NODE_ENV: "production",
      KAKUNIN_DIRECTORY_FILE: directoryFile,
      KAKUNIN_PORTAL_OUT_DIR: outDir,
      KAKUNIN_API_URL: "",
    });
    if (build.code !== 0) throw new Error(`astro build failed:\n${build.out}`);
    const { serveSite } = await import("../serve-site.js");
    const { chromium } = await import("playwright");
    const site = await serveSite({ dir: outDir, port: 0 });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    let browserMs = NaN;
    let browserVerdict = "?";
    let browserEntries = "?";
    let workers = "?";
    const jsSizes: [string, number][] = [];
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      for (const path of ["/verify/receipt/", "/verify/signature/", "/verify/log/"]) {
        const scripts = new Set<string>();
        const onResponse = (r: { url(): string; headers(): Record<string, string> }) => {
          if ((r.headers()["content-type"] ?? "").includes("javascript")) scripts.add(r.url());
        };
        page.on("response", onResponse);
        await page.goto(site.url + path, { waitUntil: "networkidle" });
        page.off("response", onResponse);
        let gz = 0;
        for (const u of scripts) gz += gzipSync(Buffer.from(await (await fetch(u)).arrayBuffer()), { level: 9 }).length;
        jsSizes.push([path, gz]);
      }
      workers = String(await page.evaluate(() => navigator.hardwareConcurrency));
      console.log(`Portal: verifying in Chromium (${workers} workers)…`);
      await page.setInputFiles("#log-file", exportPath);
      await page.click("#verify");
      await page.locator("#verdict").waitFor({ timeout: 30 * 60_000 });
      browserVerdict = (await page.locator("#verdict").getAttribute("data-verdict")) ?? "?";
      browserMs = Number(await page.locator("#progress-text").getAttribute("data-ms"));
      browserEntries = (await page.locator("#progress-text").getAttribute("data-entries")) ?? "?";
      if (errors.length) console.log("page errors:", errors);
    } finally {
      await browser.close();
      await site.close();
    }

    console.log(`\nExport: ${n.toLocaleString("en")} entries, ${fmt(size / 1e6, 1)} MB; ${cpus().length} cores`);
    console.log(
      table(
        ["verifier", "verdict", "entries", "time (s)", "entries/s"],
        [
          [
            "CLI kakunin-verify log (wall, incl. start-up)",
            cliVerdict,
            n,
            fmt(cli.ms / 1000, 2),
            fmt(n / (cli.ms / 1000)),
          ],
          [
            `portal /verify/log/ in Chromium (${workers} Web Workers)`,
            browserVerdict,
            browserEntries,
            fmt(browserMs / 1000, 2),
            fmt(Number(browserEntries) / (browserMs / 1000)),
          ],
        ],
      ),
    );
    console.log(`browser/CLI time ratio: ${fmt(browserMs / cli.ms, 2)}`);
    console.log(
      "\n" +
        table(
          ["verify page", "JS gzipped (KB)", "budget (KB)"],
          jsSizes.map(([p, b]) => [p, fmt(b / 1024, 1), 200]),
        ),
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export { run_ as run };
