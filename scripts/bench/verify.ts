/**
 * Offline verification throughput: the kakunin-verify CLI over a generated `kakunin-log/1` export of
 * N entries (default 1,000,000), end to end (spawned, reading the file, all cores), with its peak RSS;
 * beside `openssl speed -multi <cores> rsa2048` verify/s measured in the same run, and beside a plain
 * shell loop calling `openssl dgst -verify` once per entry (what an auditor does by hand).
 *
 *   npm run bench -- verify [--entries 1000000] [--workers <cores>] [--sample 200] [--regenerate] [--generate-only] [--skip-no-native]
 *
 * The export is FORMATS.md exactly: a CA, a log signer and 8 agents made here (@peculiar/x509),
 * one rotation, one revocation, every entry with its own valid RSASSA-PSS signature (signed with
 * node:crypto in worker threads). It is generated once into .data/bench/verify-<N>.ndjson and reused.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  createReadStream,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import canonicalize from "canonicalize";
import { cores, fmt, table } from "./lib.js";
import { ZERO_HASH } from "../../verifier/src/formats/hash.js";

export const description =
  "kakunin-verify entries/s and peak RSS on an N-entry export vs openssl speed (all cores) and an openssl dgst shell loop";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "verifier", "bin", "kakunin-verify.js");
const AGENTS = 8;

const sha256 = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");
const jcs = (v: unknown) => canonicalize(v)!;

interface Meta {
  entries: number;
  caFingerprint: string;
  generatedIn: number;
}

/** Signs batches with node:crypto (RSASSA-PSS, SHA-256, salt 32) in one worker per core. */
const SIGNER_SRC = `
const { parentPort, workerData } = require("node:worker_threads");
const crypto = require("node:crypto");
const keys = workerData.keys.map((k) => crypto.createPrivateKey({ key: Buffer.from(k), format: "der", type: "pkcs8" }));
parentPort.on("message", ({ id, items }) => {
  const sigs = items.map(([k, msg]) => crypto.sign("sha256", Buffer.from(msg, "utf8"), { key: keys[k], padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString("base64"));
  parentPort.postMessage({ id, sigs });
});`;

async function generate(n: number, path: string): Promise<Meta> {
  const t0 = performance.now();
  // The PKI fixtures of the verifier's tests (WebCrypto + @peculiar/x509, docs/ARCHITECTURE.md#keys-and-certificates profiles).
  const pki = await import("../../test/unit/verifier/fixtures/pki.js");
  const { webcrypto } = await import("node:crypto");
  const ca = await pki.makeCa("Kakunin Bench CA");
  const log = await pki.issueLogSigner(ca);
  const issuer = `iss_${sha256("bench").slice(0, 32)}`;
  const agentIds = Array.from({ length: AGENTS }, (_, i) => `agt_${sha256(`agent-${i}`).slice(0, 32)}`);
  const agentCerts = await Promise.all(agentIds.map((id) => pki.issueAgent(ca, id, { o: "Bench Issuer" })));
  const rotatedNew = await pki.issueAgent(ca, agentIds[0]!, { o: "Bench Issuer" });
  const signers = [log, ...agentCerts, rotatedNew];
  const pkcs8 = await Promise.all(
    signers.map(async (s) => new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", s.keys.privateKey))),
  );
  const idx = new Map(signers.map((s, i) => [s.serial, i]));

  const start = Date.now() - n - 3_600_000; // one entry per ms, ending an hour ago
  const rotateAt = Math.floor(n * 0.4);
  const revokeAt = Math.floor(n * 0.7);
  const revokedAgent = AGENTS - 1;
  const revokeTime = new Date(start + revokeAt).toISOString();
  const crl = await pki.makeCrl(
    ca,
    [{ serial: agentCerts[revokedAgent]!.serial, date: new Date(start + revokeAt) }],
    2,
  );

  type Body = Record<string, unknown>;
  const signerBlock = (s: typeof log) => ({ cert: s.serial, key: s.keyArn, alg: "RSASSA_PSS_SHA_256" });
  const lifecycle = (seq: number, type: string, agent: string, details: Record<string, string>): Body => ({
    v: 1,
    seq,
    time: "",
    type,
    issuer,
    agent,
    signer: signerBlock(log),
    payloadHash: sha256(jcs(details)),
    prevHash: "",
    details,
  });
  /** The entry at seq (without time/prevHash/hash/sig). */
  function body(seq: number): Body {
    if (seq < AGENTS) return lifecycle(seq, "agent.registered", agentIds[seq]!, { cert: agentCerts[seq]!.serial });
    if (seq === rotateAt)
      return lifecycle(seq, "key.rotated", agentIds[0]!, {
        oldCert: agentCerts[0]!.serial,
        newCert: rotatedNew.serial,
      });
    if (seq === revokeAt)
      return lifecycle(seq, "certificate.revoked", agentIds[revokedAgent]!, {
        cert: agentCerts[revokedAgent]!.serial,
        reason: "keyCompromise",
      });
    let a = seq % AGENTS;
    if (a === revokedAgent && seq > revokeAt) a = seq % (AGENTS - 1);
    const cert = a === 0 && seq > rotateAt ? rotatedNew : agentCerts[a]!;
    const e: Body = {
      v: 1,
      seq,
      time: "",
      type: "agent.operation",
      issuer,
      agent: agentIds[a]!,
      signer: signerBlock(cert),
      payloadHash: sha256(`{"n":${seq},"op":"bench"}`),
      prevHash: "",
    };
    if (seq % 10 === 3) e.details = { contentType: "application/json" };
    return e;
  }

  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r()));
  const cert = (s: typeof log, extra: Record<string, unknown>) =>
    JSON.stringify({
      kind: "certificate",
      serial: s.serial,
      pem: s.pem,
      role: s.role,
      agent: s.agent,
      status: "active",
      notBefore: s.cert.notBefore.toISOString(),
      notAfter: s.cert.notAfter.toISOString(),
      keyArn: s.keyArn,
      keyState: "Enabled",
      disabledAt: null,
      supersededAt: null,
      revokedAt: null,
      revocationReason: null,
      ...extra,
    });
  await write(
    JSON.stringify({
      kind: "header",
      format: "kakunin-log/1",
      issuer,
      exportedAt: new Date().toISOString(),
      range: { from: 0, to: n - 1 },
      prevHash: ZERO_HASH,
      caCertificate: ca.pem,
      payloads: false,
    }) + "\n",
  );
  const rotTime = new Date(start + rotateAt).toISOString();
  await write(cert(log, {}) + "\n");
  for (const [i, c] of agentCerts.entries()) {
    const extra =
      i === 0
        ? { status: "superseded", keyState: "Disabled", disabledAt: rotTime, supersededAt: rotTime }
        : i === revokedAgent
          ? {
              status: "revoked",
              keyState: "Disabled",
              disabledAt: revokeTime,
              revokedAt: revokeTime,
              revocationReason: "keyCompromise",
            }
          : {};
    await write(cert(c, extra) + "\n");
  }
  await write(cert(rotatedNew, {}) + "\n");
  await write(JSON.stringify({ kind: "crl", pem: crl }) + "\n");

  const workers = Array.from(
    { length: cores },
    () => new Worker(SIGNER_SRC, { eval: true, workerData: { keys: pkcs8 } }),
  );
  const pending = new Map<number, (sigs: string[]) => void>();
  for (const w of workers)
    w.on("message", (m: { id: number; sigs: string[] }) => {
      pending.get(m.id)!(m.sigs);
      pending.delete(m.id);
    });
  let nextId = 0;
  const sign = (w: Worker, items: [number, string][]) =>
    new Promise<string[]>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      w.postMessage({ id, items });
    });

  const BATCH = 2000;
  let prev = ZERO_HASH;
  let last = "";
  const inflight: Promise<string>[] = [];
  let lastReport = performance.now();
  for (let from = 0, b = 0; from < n; from += BATCH, b++) {
    const bodies: string[] = [];
    const items: [number, string][] = [];
    for (let seq = from; seq < Math.min(n, from + BATCH); seq++) {
      const e = body(seq);
      e.time = new Date(start + seq).toISOString();
      e.prevHash = prev;
      const bytes = jcs(e);
      prev = sha256(bytes);
      bodies.push(bytes);
      items.push([idx.get((e.signer as { cert: string }).cert)!, bytes]);
    }
    const hashes = bodies.map((x) => sha256(x));
    inflight.push(
      sign(workers[b % workers.length]!, items).then((sigs) =>
        bodies
          .map((x, i) => `{"kind":"entry","entry":${x.slice(0, -1)},"hash":"${hashes[i]}","sig":"${sigs[i]}"}}\n`)
          .join(""),
      ),
    );
    while (inflight.length >= workers.length * 2) await write(await inflight.shift()!);
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      process.stderr.write(`  generating: ${from} / ${n} entries\n`);
    }
  }
  while (inflight.length) await write(await inflight.shift()!);
  last = prev;
  await Promise.all(workers.map((w) => w.terminate()));
  const cp: Record<string, unknown> = {
    issuer,
    size: n,
    head: last,
    time: new Date(start + n).toISOString(),
    signer: signerBlock(log),
  };
  const cpSig = await webcrypto.subtle.sign(
    { name: "RSA-PSS", saltLength: 32 },
    log.keys.privateKey,
    Buffer.from(jcs(cp)),
  );
  await write(
    JSON.stringify({ kind: "checkpoint", checkpoint: { ...cp, sig: Buffer.from(cpSig).toString("base64") } }) + "\n",
  );
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  renameSync(tmp, path);
  return { entries: n, caFingerprint: ca.fingerprint, generatedIn: (performance.now() - t0) / 1000 };
}

/** `openssl speed -seconds N -multi M rsa2048` → RSA-2048 verifies/s (all M processes). */
function opensslVerifyRate(seconds: number, multi: number): number {
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
async function runCli(
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
async function shellLoop(file: string, n: number, k: number): Promise<number> {
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

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      entries: { type: "string", default: "1000000" },
      workers: { type: "string" },
      sample: { type: "string", default: "200" },
      regenerate: { type: "boolean", default: false },
      "generate-only": { type: "boolean", default: false },
      "skip-no-native": { type: "boolean", default: false },
    },
  });
  const n = Number(values.entries);
  if (!Number.isInteger(n) || n < AGENTS + 2) throw new Error(`--entries must be an integer ≥ ${AGENTS + 2}`);
  const workers = values.workers ? Number(values.workers) : undefined;
  const file = join(ROOT, ".data", "bench", `verify-${n}.ndjson`);
  const metaFile = `${file}.json`;
  let meta: Meta;
  if (!values.regenerate && existsSync(file) && existsSync(metaFile)) {
    meta = JSON.parse(readFileSync(metaFile, "utf8")) as Meta;
    console.log(`export: ${file} (cached; generated in ${fmt(meta.generatedIn, 0)} s)`);
  } else {
    console.log(`generating ${n} signed entries into ${file} (${cores} signing workers)…`);
    meta = await generate(n, file);
    writeFileSync(metaFile, JSON.stringify(meta));
    console.log(`generated in ${fmt(meta.generatedIn, 1)} s`);
  }

  if (values["generate-only"]) return;
  const osslAll = opensslVerifyRate(3, cores);
  const ossl1 = opensslVerifyRate(3, 1);
  const cli = await runCli(file, meta.caFingerprint, workers);
  if (cli.exit !== 0)
    throw new Error(
      `kakunin-verify exited ${cli.exit} on the generated export (expected 0):\n${cli.stdout.slice(0, 2000)}`,
    );
  const cliRate = n / cli.seconds;
  // The same without the optional native addon (node:crypto in the workers), for comparison.
  const plain = values["skip-no-native"] ? undefined : await runCli(file, meta.caFingerprint, workers, ["--no-native"]);
  if (plain && plain.exit !== 0)
    throw new Error(`kakunin-verify --no-native exited ${plain.exit} on the generated export (expected 0)`);
  const loop = await shellLoop(file, n, Number(values.sample));

  console.log(`\n${n} entries, ${cores} cores, kakunin-verify --workers ${workers ?? cores}`);
  console.log(
    table(
      ["what", "verifies/s", "vs openssl all cores", "peak RSS MB", "target"],
      [
        [`openssl speed -multi ${cores} rsa2048 (verify only)`, fmt(osslAll), "100%", "-", ""],
        ["openssl speed rsa2048, 1 core", fmt(ossl1), `${fmt((ossl1 / osslAll) * 100)}%`, "-", ""],
        [
          `kakunin-verify log (end to end; ${cli.stats?.crypto ?? "?"})`,
          fmt(cliRate),
          `${fmt((cliRate / osslAll) * 100)}%`,
          fmt(cli.maxRssMb),
          `≥ 50%, < 256 MB: ${cliRate >= osslAll / 2 && cli.maxRssMb < 256 ? "met" : "NOT met"}`,
        ],
        ...(plain
          ? [
              [
                "kakunin-verify log --no-native (node:crypto)",
                fmt(n / plain.seconds),
                `${fmt((n / plain.seconds / osslAll) * 100)}%`,
                fmt(plain.maxRssMb),
                "",
              ],
            ]
          : []),
        [
          `shell loop of openssl dgst -verify (${values.sample} sampled)`,
          fmt(loop, 1),
          `${fmt((loop / osslAll) * 100, 2)}%`,
          "-",
          `${fmt(n / loop / 3600, 1)} h for ${n}`,
        ],
      ],
    ),
  );
  const cpu = (st?: Record<string, number | string>) =>
    st ? `, ${fmt((Number(st.cpuUserMs ?? 0) + Number(st.cpuSystemMs ?? 0)) / 1000, 1)} s CPU` : "";
  console.log(
    `kakunin-verify: ${fmt(cli.seconds, 1)} s wall${cpu(cli.stats)}${plain ? `; --no-native: ${fmt(plain.seconds, 1)} s wall${cpu(plain.stats)}` : ""}`,
  );
}
