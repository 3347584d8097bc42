/**
 * kakunin-verify: the offline CLI. Never touches the network. Exit codes: 0 PASSED, 1 FAILED
 * (any failed finding, including a malformed line inside a readable input), 3 INDETERMINATE,
 * 2 usage error or input that cannot be read at all (missing file; not the format from its first
 * line; no header).
 */
import { Command, CommanderError, Option } from "commander";
import cliProgress from "cli-progress";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { formatReport, verifyExportBytes, verifyReceipt, verifySignature, type Report, type TrustAnchor } from "./index.js";
import { NodeWorkerPool } from "./node/worker-pool.js";

const EXIT = { PASSED: 0, FAILED: 1, INDETERMINATE: 3, USAGE: 2 } as const;

/** Usage or unreadable input: exit 2 with a message naming the file (and line/field). */
class InputError extends Error {}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function trustFrom(o: { ca?: string; caFingerprint?: string }): TrustAnchor {
  if (o.ca && o.caFingerprint) throw new InputError("give either --ca or --ca-fingerprint, not both");
  if (o.ca) return { caCertificate: readFile(o.ca, "CA certificate").toString("utf8") };
  if (o.caFingerprint) return { caFingerprint: o.caFingerprint };
  throw new InputError("the trusted CA is required: --ca ca.pem or --ca-fingerprint sha256:HEX (never taken from the input)");
}

function output(report: Report, json: boolean, file: string): number {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  const malformed = report.errors.filter((e) => e.code === "ERR_MALFORMED");
  for (const e of malformed.slice(0, 20)) {
    process.stderr.write(`${file}${e.line !== undefined ? `:${e.line}` : ""}${e.field ? ` field ${e.field}` : ""}: ${e.message}\n`);
  }
  if (report.unreadable) return EXIT.USAGE;
  return EXIT[report.verdict];
}

const trustOptions = (c: Command) =>
  c
    .option("--ca <file>", "pinned CA certificate (PEM)")
    .option("--ca-fingerprint <sha256:HEX>", "pinned CA by SHA-256 of its DER (colons allowed)")
    .option("--json", "print the report as JSON", false);

export function program(): Command {
  const p = new Command("kakunin-verify")
    .description("Verify Kakunin exported logs, receipts and signatures offline, against a pinned CA.")
    .exitOverride()
    .showHelpAfterError()
    .addHelpText("after", `
Examples:
  kakunin-verify log export.ndjson --ca-fingerprint sha256:3F:A2:...
  kakunin-verify log export.ndjson --ca ca.pem --json > report.json
  kakunin-verify receipt receipt.json --ca ca.pem --payload-json payload.json
  kakunin-verify signature --cert agent.pem --sig sig.b64 --message msg.bin --ca ca.pem --crl crl.pem

Exit codes: 0 passed, 1 failed, 3 indeterminate, 2 usage error or unreadable input.`);

  trustOptions(p.command("log").argument("<export>", "kakunin-log/1 NDJSON file").description("verify an exported log (streamed, all cores)"))
    .option("--workers <n>", "worker threads (default: all cores)", (v) => parseInt(v, 10))
    .option("--no-progress", "no progress bar")
    .option("--no-native", "verify RSA signatures with node:crypto even if the optional native OpenSSL addon is built (same results, slower)")
    .addOption(new Option("--stats", "print resource usage (peak RSS, CPU, wall time) to stderr").hideHelp())
    .action(async (file: string, o) => {
      const started = performance.now();
      const trust = trustFrom(o);
      let size = 0;
      try {
        size = statSync(file).size;
      } catch (e) {
        throw new InputError(`cannot read export ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      // 512 KiB reads: each becomes one block of about 560 entries for a worker (larger blocks gain
      // nothing and keep more memory in flight).
      const stream = createReadStream(file, { highWaterMark: 1 << 19 });
      const opened = new Promise<void>((resolve, reject) => {
        stream.once("open", () => resolve());
        stream.once("error", (e) => reject(new InputError(`cannot read export ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`)));
      });
      await opened;
      const bar = o.progress && process.stderr.isTTY
        ? new cliProgress.SingleBar({ stream: process.stderr, format: "{bar} {percentage}% | {lines} lines | {entries} entries", hideCursor: true }, cliProgress.Presets.shades_classic)
        : undefined;
      let bytes = 0;
      bar?.start(size || 1, 0, { lines: 0, entries: 0 });
      const pool = new NodeWorkerPool(o.workers > 0 ? o.workers : undefined, { native: o.native !== false });
      try {
        const chunks = async function* () {
          for await (const c of stream as AsyncIterable<Buffer>) {
            bytes += c.byteLength;
            yield c;
          }
        };
        const report = await verifyExportBytes(chunks(), {
          trust,
          pool,
          onProgress: (pr) => bar?.update(bytes, pr),
        });
        bar?.stop();
        process.exitCode = output(report, o.json, file);
        if (o.stats) {
          const u = process.resourceUsage();
          const stats = { entries: report.counts.entries, wallMs: Math.round(performance.now() - started), maxRssKb: u.maxRSS, cpuUserMs: Math.round(u.userCPUTime / 1000), cpuSystemMs: Math.round(u.systemCPUTime / 1000), workers: pool.size, crypto: pool.crypto };
          process.stderr.write(`kakunin-verify stats: ${JSON.stringify(stats)}\n`);
        }
      } finally {
        bar?.stop();
        await pool.close();
      }
    });

  trustOptions(p.command("receipt").argument("<receipt>", "kakunin-receipt/1 JSON file").description("verify a receipt"))
    .option("--payload <file>", "the payload as raw bytes (compared with entry.payloadHash)")
    .option("--payload-json <file>", "the payload as JSON (hashed over its RFC 8785 bytes)")
    .option("--crl <file...>", "extra CRL(s), PEM or base64 DER")
    .action(async (file: string, o) => {
      const trust = trustFrom(o);
      const text = readFile(file, "receipt").toString("utf8");
      if (o.payload && o.payloadJson) throw new InputError("give either --payload or --payload-json");
      let payload: Uint8Array | { json: unknown } | undefined;
      if (o.payload) payload = new Uint8Array(readFile(o.payload, "payload"));
      if (o.payloadJson) {
        try {
          payload = { json: JSON.parse(readFile(o.payloadJson, "payload").toString("utf8")) };
        } catch (e) {
          if (e instanceof InputError) throw e;
          throw new InputError(`payload ${o.payloadJson} is not valid JSON`);
        }
      }
      const crls = ((o.crl as string[] | undefined) ?? []).map((f) => readFile(f, "CRL").toString("utf8"));
      const report = await verifyReceipt(text, { trust, ...(payload ? { payload } : {}), crls });
      process.exitCode = output(report, o.json, file);
    });

  trustOptions(p.command("signature").description("verify a bare signature with a certificate"))
    .requiredOption("--cert <file>", "signer certificate PEM (may include the CA after it)")
    .requiredOption("--sig <file|base64>", "signature: a file (raw or base64) or a base64 literal")
    .requiredOption("--message <file>", "the signed message bytes")
    .option("--crl <file...>", "CRL(s), PEM or base64 DER")
    .addOption(new Option("--alg <alg>", "signature algorithm").choices(["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"]).default("RSASSA_PSS_SHA_256"))
    .option("--at <time>", "claimed signing time (RFC 3339), checked against the certificate's validity")
    .action(async (o) => {
      const trust = trustFrom(o);
      const certificate = readFile(o.cert, "certificate").toString("utf8");
      const message = new Uint8Array(readFile(o.message, "message"));
      let signature: Uint8Array | string = o.sig as string;
      let sigFile = false;
      try {
        sigFile = statSync(o.sig).isFile();
      } catch {
        sigFile = false;
      }
      if (sigFile) {
        const raw = readFile(o.sig, "signature");
        const text = raw.toString("latin1").trim();
        signature = /^[A-Za-z0-9+/=\s]+$/.test(text) ? text : new Uint8Array(raw);
      }
      let at: Date | undefined;
      if (o.at) {
        at = new Date(o.at);
        if (Number.isNaN(at.getTime())) throw new InputError(`--at ${o.at} is not a time`);
      }
      const crls = ((o.crl as string[] | undefined) ?? []).map((f) => readFile(f, "CRL").toString("utf8"));
      const report = await verifySignature({ message, signature, certificate, trust, crls, alg: o.alg, ...(at ? { at } : {}) });
      process.exitCode = output(report, o.json, o.sig);
    });
  return p;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.USAGE;
      return;
    }
    if (e instanceof InputError) {
      process.stderr.write(`kakunin-verify: ${e.message}\n`);
      process.exitCode = EXIT.USAGE;
      return;
    }
    process.stderr.write(`kakunin-verify: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = EXIT.USAGE;
  }
}

await main();
