/**
 * kakunin-verify: the offline CLI. Never touches the network. Exit codes: 0 PASSED, 1 FAILED
 * (any failed finding, including a malformed line inside a readable input), 3 INDETERMINATE,
 * 2 usage error or input that cannot be read at all (missing file; not the format from its first
 * line; no header).
 */
import { Command, CommanderError, Option } from "commander";
import cliProgress from "cli-progress";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import {
  formatReport,
  verifyExportBytes,
  verifyReceipt,
  verifySignature,
  type Report,
  type TrustAnchor,
} from "./index.js";
import { NodeWorkerPool } from "./node/worker-pool.js";
import { InputError, crlFiles, exportCertificates, onlineCrls, readFile, readText } from "./node/cli-input.js";
import { addConsistencyCommand } from "./node/consistency-command.js";
import { addTilesCommand } from "./node/tiles-command.js";
import { parseStrictJson, startsWithBom, strictUtf8Decoder } from "./parse/strict-json.js";
import { parsePolicy } from "./formats/policy.js";
import { parseVerifierKey } from "./formats/note.js";
import { parseRfc3339DateTime } from "./formats/date-time.js";
import { parseTsaBundle } from "./timestamp/tsa-bundle.js";
import { openSinceCheckpoint } from "./checks/tree/index.js";
import { createHash } from "node:crypto";
import type { TrustMaterial } from "./trust/material.js";

const EXIT = { PASSED: 0, FAILED: 1, INDETERMINATE: 3, USAGE: 2 } as const;

function trustFrom(o: { ca?: string; caFingerprint?: string }): TrustAnchor {
  if (o.ca && o.caFingerprint) throw new InputError("give either --ca or --ca-fingerprint, not both");
  if (o.ca) return { caCertificate: readText(o.ca, "CA certificate") };
  if (o.caFingerprint) return { caFingerprint: o.caFingerprint };
  throw new InputError(
    "the trusted CA is required: --ca ca.pem or --ca-fingerprint sha256:HEX (never taken from the input)",
  );
}

/** --log-key, --policy and --tsa with the pinned CA: the receipt's whole trust material. */
async function materialFrom(
  o: { logKey?: string[]; policy?: string; tsa?: string },
  ca: TrustAnchor,
): Promise<TrustMaterial> {
  const m: TrustMaterial = { ca };
  if (o.logKey?.length) {
    m.logKeys = await Promise.all(
      o.logKey.map((k) =>
        parseVerifierKey(k).catch((e: Error) => {
          throw new InputError(`--log-key ${k}: ${e.message}`);
        }),
      ),
    );
  }
  if (o.policy) {
    const bytes = new Uint8Array(readFile(o.policy, "policy"));
    m.policy = await parsePolicy(bytes).catch((e: Error) => {
      throw new InputError(`policy ${o.policy}: ${e.message}`);
    });
  }
  if (o.tsa) {
    try {
      m.tsa = parseTsaBundle(readText(o.tsa, "TSA trust list"), o.tsa);
    } catch (e) {
      if (e instanceof InputError) throw e;
      throw new InputError(`TSA trust list ${o.tsa}: ${(e as Error).message}`);
    }
  }
  return m;
}

function output(report: Report, json: boolean, file: string): number {
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  const malformed = report.errors.filter((e) => e.code === "ERR_MALFORMED");
  for (const e of malformed.slice(0, 20)) {
    process.stderr.write(
      `${file}${e.line !== undefined ? `:${e.line}` : ""}${e.field ? ` field ${e.field}` : ""}: ${e.message}\n`,
    );
  }
  if (report.unreadable) return EXIT.USAGE;
  return EXIT[report.verdict];
}

const trustOptions = (c: Command) =>
  c
    .option("--ca <file>", "pinned CA certificate (PEM)")
    .option("--ca-fingerprint <sha256:HEX>", "pinned CA by SHA-256 of its DER (colons allowed)")
    .option("--json", "print the report as JSON", false)
    .option("--crl <file...>", "CRL file(s), PEM or base64 DER: with the input's own, the newest valid CRL decides")
    .option(
      "--online",
      "also fetch the current CRL from the certificates' CRL distribution points (default: offline)",
      false,
    );

export function program(): Command {
  const p = new Command("kakunin-verify")
    .description("Verify Kakunin exported logs, receipts and signatures offline, against a pinned CA.")
    .exitOverride()
    .showHelpAfterError()
    .addHelpText(
      "after",
      `
Examples:
  kakunin-verify log export.ndjson --ca-fingerprint sha256:3F:A2:...
  kakunin-verify log export.ndjson --ca ca.pem --json > report.json
  kakunin-verify receipt receipt.json --ca ca.pem --payload-json payload.json
  kakunin-verify receipt receipt.json --ca ca.pem --policy policy.txt --tsa tsa.pem --json
  kakunin-verify signature --cert agent.pem --sig sig.b64 --message msg.bin --ca ca.pem --crl crl.pem

Exit codes: 0 passed, 1 failed, 3 indeterminate, 2 usage error or unreadable input.`,
    );

  trustOptions(
    p
      .command("log")
      .argument("<export>", "kakunin-log/1 NDJSON file")
      .description("verify an exported log (streamed, all cores), and with a log key its Merkle tree"),
  )
    .option(
      "--log-key <vkey...>",
      "pinned log verifier key <origin>+<hex id>+<base64> (repeatable): checks the export's tree-checkpoint lines",
    )
    .option(
      "--policy <file>",
      "C2SP tlog-policy: pinned log keys, witness keys and the quorum the newest checkpoint needs",
    )
    .option(
      "--since <checkpoint>",
      "a signed checkpoint kept from before: prove the export extends it (needs a log key)",
    )
    .option("--workers <n>", "worker threads (default: all cores)", (v) => parseInt(v, 10))
    .option("--no-progress", "no progress bar")
    .option(
      "--no-native",
      "verify RSA signatures with node:crypto even if the optional native OpenSSL addon is built (same results, slower)",
    )
    .addOption(new Option("--stats", "print resource usage (peak RSS, CPU, wall time) to stderr").hideHelp())
    .action(async (file: string, o) => {
      const started = performance.now();
      const trust = trustFrom(o);
      const { logKeys, policy } = await materialFrom(o, trust);
      let since: string | undefined;
      if (o.since !== undefined) {
        if (!logKeys?.length && !policy?.logs.length)
          throw new InputError("--since needs the log's verifier key: --log-key VKEY or --policy FILE with a log line");
        since = readText(o.since, "checkpoint");
        try {
          await openSinceCheckpoint(since, { ...(logKeys ? { logKeys } : {}), ...(policy ? { policy } : {}) });
        } catch (e) {
          throw new InputError(`${o.since}: ${(e as Error).message.replace(/^the --since checkpoint: /, "")}`);
        }
      }
      let size = 0;
      try {
        size = statSync(file).size;
      } catch (e) {
        throw new InputError(`cannot read export ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      }
      const unreadable = (e: unknown) =>
        new InputError(`cannot read export ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
      let fd: number;
      try {
        fd = openSync(file, "r");
      } catch (e) {
        throw unreadable(e);
      }
      const bar =
        o.progress && process.stderr.isTTY
          ? new cliProgress.SingleBar(
              {
                stream: process.stderr,
                format: "{bar} {percentage}% | {lines} lines | {entries} entries",
                hideCursor: true,
              },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      let bytes = 0;
      bar?.start(size || 1, 0, { lines: 0, entries: 0 });
      const pool = new NodeWorkerPool(o.workers > 0 ? o.workers : undefined, { native: o.native !== false });
      try {
        // 512 KiB reads, each becoming one block of about 560 entries for a worker (larger blocks
        // gain nothing and keep more memory in flight), into one buffer: verifyExportBytes copies
        // what it keeps of a chunk before asking for the next. Synchronous: from the page cache a
        // read costs less than the round trip through libuv's thread pool and a fresh buffer
        // (about 2 s of CPU less per million entries); the workers have blocks queued meanwhile.
        const chunks = function* () {
          const buf = Buffer.allocUnsafe(1 << 19);
          for (;;) {
            let bytesRead: number;
            try {
              bytesRead = readSync(fd, buf, 0, buf.length, null);
            } catch (e) {
              throw unreadable(e);
            }
            if (bytesRead === 0) return;
            bytes += bytesRead;
            yield buf.subarray(0, bytesRead);
          }
        };
        const crls = [...crlFiles(o.crl), ...(await onlineCrls(o.online, o.online ? exportCertificates(file) : []))];
        const report = await verifyExportBytes(chunks(), {
          trust,
          pool,
          crls,
          ...(logKeys ? { logKeys } : {}),
          ...(policy ? { policy } : {}),
          ...(since !== undefined ? { since } : {}),
          treeHash: (d) => createHash("sha256").update(d).digest(),
          onProgress: (pr) => bar?.update(bytes, pr),
        });
        bar?.stop();
        process.exitCode = output(report, o.json, file);
        const evidence = report.tree?.since?.evidence;
        if (evidence && !o.json)
          process.stdout.write(
            `\nThe export does not extend the --since checkpoint: the log showed two histories. Evidence (both signed notes):\n\n${evidence}`,
          );
        if (o.stats) {
          const u = process.resourceUsage();
          const stats = {
            entries: report.counts.entries,
            wallMs: Math.round(performance.now() - started),
            maxRssKb: u.maxRSS,
            cpuUserMs: Math.round(u.userCPUTime / 1000),
            cpuSystemMs: Math.round(u.systemCPUTime / 1000),
            workers: pool.size,
            crypto: pool.crypto,
          };
          process.stderr.write(`kakunin-verify stats: ${JSON.stringify(stats)}\n`);
        }
      } finally {
        bar?.stop();
        closeSync(fd);
        await pool.close();
      }
    });

  trustOptions(
    p
      .command("receipt")
      .argument("<receipt>", "kakunin-receipt/1 or /2 JSON file (- for standard input)")
      .description("verify a receipt"),
  )
    .option(
      "--log-key <vkey...>",
      "pinned log verifier key <origin>+<hex id>+<base64> (repeatable): checks a kakunin-receipt/2's checkpoint",
    )
    .option("--policy <file>", "C2SP tlog-policy: pinned log keys, witness keys and the cosignature quorum")
    .option("--tsa <file>", "pinned TSA trust list (PEM certificates, optional CRLs): past signature validation")
    .option("--payload <file>", "the payload as raw bytes (compared with entry.payloadHash)")
    .option("--payload-json <file>", "the payload as JSON (hashed over its RFC 8785 bytes)")
    .option("--now <time>", "judge as at this time (RFC 3339) instead of the clock, e.g. after a certificate expired")
    .action(async (file: string, o) => {
      let now: Date | undefined;
      if (o.now !== undefined) {
        now = parseRfc3339DateTime(o.now);
        if (!now)
          throw new InputError(
            `--now ${o.now} is not an RFC 3339 date-time with seconds and a time zone (e.g. 2026-12-05T10:00:00Z)`,
          );
      }
      const trust = await materialFrom(o, trustFrom(o));
      const text = readText(file, "receipt");
      if (o.payload && o.payloadJson) throw new InputError("give either --payload or --payload-json");
      let payload: Uint8Array | { json: unknown } | undefined;
      if (o.payload) payload = new Uint8Array(readFile(o.payload, "payload"));
      if (o.payloadJson) {
        try {
          payload = { json: parseStrictJson(readText(o.payloadJson, "payload"), "(payload)", "payload") };
        } catch (e) {
          if (e instanceof InputError) throw e;
          const err = e as { message: string; field?: string };
          throw new InputError(
            `payload ${o.payloadJson}${err.field && err.field !== "(payload)" ? ` field ${err.field}` : ""}: ${err.message}`,
          );
        }
      }
      let certPems: string[] = [];
      try {
        const v = JSON.parse(text) as { certificates?: unknown };
        if (Array.isArray(v.certificates)) certPems = v.certificates.filter((c): c is string => typeof c === "string");
      } catch {
        /* the verifier reports it */
      }
      const crls = [...crlFiles(o.crl), ...(await onlineCrls(o.online, certPems))];
      const report = await verifyReceipt(text, {
        trust,
        ...(payload ? { payload } : {}),
        crls,
        ...(now ? { now } : {}),
      });
      process.exitCode = output(report, o.json, file);
    });

  trustOptions(p.command("signature").description("verify a bare signature with a certificate"))
    .requiredOption("--cert <file>", "signer certificate PEM (may include the CA after it)")
    .requiredOption("--sig <file|base64>", "signature: a file (raw or base64) or a base64 literal")
    .requiredOption("--message <file>", "the signed message bytes")
    .addOption(
      new Option("--alg <alg>", "signature algorithm")
        .choices(["RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"])
        .default("RSASSA_PSS_SHA_256"),
    )
    .option("--at <time>", "claimed signing time (RFC 3339), checked against the certificate's validity")
    .action(async (o) => {
      const trust = trustFrom(o);
      const certificate = readText(o.cert, "certificate");
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
      const crls = [...crlFiles(o.crl), ...(await onlineCrls(o.online, [certificate]))];
      const report = await verifySignature({
        message,
        signature,
        certificate,
        trust,
        crls,
        alg: o.alg,
        ...(at ? { at } : {}),
      });
      process.exitCode = output(report, o.json, o.sig);
    });
  addConsistencyCommand(p);
  addTilesCommand(p);
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
