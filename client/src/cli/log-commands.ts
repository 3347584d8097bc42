/** sign, receipt get, export, checkpoint: the audit log from the command line. */
import { createWriteStream, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { KakuninApiError } from "../errors.js";
import { UsageError } from "./config.js";
import { clientFor, globals } from "./context.js";
import { printFields, printJson } from "./output.js";

function readInput(file: string): Buffer {
  try {
    return file === "-" ? readFileSync(0) : readFileSync(file);
  } catch (e) {
    throw new UsageError(
      `cannot read payload ${file === "-" ? "from stdin" : file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
}

/** Writes a JSON document to `out` (a file) or stdout; returns where it went. */
function emit(doc: unknown, out: string | undefined): string {
  const text = JSON.stringify(doc, null, 2) + "\n";
  if (!out || out === "-") {
    process.stdout.write(text);
    return "stdout";
  }
  try {
    writeFileSync(out, text);
  } catch (e) {
    throw new UsageError(`cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return out;
}

export function logCommands(program: Command): void {
  program
    .command("sign")
    .argument("<agent>", "agent id")
    .argument("[file]", "payload file, or - for stdin", "-")
    .description("sign a payload with the agent's key; write the kakunin-receipt/1 (stdout, or --out)")
    .option("-o, --out <file>", "write the receipt to this file (default: stdout)")
    .option("--payload-json", "the input is JSON: sign its RFC 8785 form (default: the raw bytes)")
    .option("--content-type <type>", "media type recorded in the signed entry")
    .action(
      async (
        agent: string,
        file: string,
        o: { out?: string; payloadJson?: boolean; contentType?: string },
        cmd: Command,
      ) => {
        const bytes = readInput(file);
        let body: { payload?: unknown; payloadBase64?: string; contentType?: string };
        if (o.payloadJson) {
          try {
            body = { payload: JSON.parse(bytes.toString("utf8")) };
          } catch (e) {
            throw new UsageError(`${file === "-" ? "stdin" : file} is not valid JSON: ${(e as Error).message}`);
          }
        } else body = { payloadBase64: bytes.toString("base64") };
        if (o.contentType) body.contentType = o.contentType;
        const receipt = await clientFor(cmd).sign(agent, body);
        const where = emit(receipt, o.out);
        if (where === "stdout") return; // the receipt is the output
        if (globals(cmd).json) return printJson({ seq: receipt.entry.seq, hash: receipt.entry.hash, receipt: where });
        printFields([
          ["seq", receipt.entry.seq],
          ["hash", receipt.entry.hash],
          ["receipt", where],
        ]);
      },
    );

  const receipt = program.command("receipt").description("receipts of existing entries");
  receipt
    .command("get")
    .argument("<seq>", "entry sequence number")
    .description("rebuild the receipt of an entry of the issuer's chain (stdout, or --out)")
    .option("-o, --out <file>", "write the receipt to this file")
    .action(async (seqText: string, o: { out?: string }, cmd: Command) => {
      if (!/^\d+$/.test(seqText)) throw new UsageError(`seq must be a non-negative integer, got "${seqText}"`);
      const seq = Number(seqText);
      const client = clientFor(cmd);
      const page = await client.logEntries({ from: seq, to: seq });
      const entry = page.entries[0];
      if (!entry)
        throw new KakuninApiError({
          code: "ERR_ENTRY_NOT_FOUND",
          status: 404,
          detail: `No entry ${seq} (the chain has ${page.size})`,
        });
      const [cert, ca] = await Promise.all([client.publicCertificate(entry.signer.cert), client.caPem()]);
      const crl = await client.crlPem().catch((e) => {
        if (e instanceof KakuninApiError && e.status === 404) return undefined;
        throw e;
      });
      const doc = {
        format: "kakunin-receipt/1" as const,
        entry,
        certificates: [cert.pem, ca],
        ...(crl ? { crl } : {}),
      };
      const where = emit(doc, o.out);
      if (where !== "stdout")
        globals(cmd).json
          ? printJson({ seq, receipt: where })
          : printFields([
              ["seq", seq],
              ["receipt", where],
            ]);
    });

  program
    .command("export")
    .description("export the issuer's chain (kakunin-log/1 NDJSON) to a file, with a progress bar")
    .requiredOption("-o, --out <file>", "destination file (written to <file>.part, renamed when complete)")
    .option("--from <seq>", "first entry", (v) => parseInt(v, 10))
    .option("--to <seq>", "last entry (inclusive)", (v) => parseInt(v, 10))
    .option("--payloads", "include stored payloads")
    .option("--progress", "show the progress bar even when stderr is not a terminal")
    .option("--no-progress", "never show the progress bar")
    .action(
      async (o: { out: string; from?: number; to?: number; payloads?: boolean; progress?: boolean }, cmd: Command) => {
        const stream = await clientFor(cmd).exportLog({
          ...(o.from !== undefined ? { from: o.from } : {}),
          ...(o.to !== undefined ? { to: o.to } : {}),
          payloads: !!o.payloads,
        });
        const showBar = o.progress ?? process.stderr.isTTY;
        const bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: "export [{bar}] {value}/{total} entries",
            noTTYOutput: true,
            notTTYSchedule: 500,
          },
          cliProgress.Presets.shades_classic,
        );
        const part = `${o.out}.part`;
        const file = createWriteStream(part);
        const opened = new Promise<void>((resolve, reject) => file.once("open", () => resolve()).once("error", reject));
        await opened.catch((e) => {
          throw new UsageError(`cannot write ${o.out}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
        });
        let entries = 0;
        let tail = "";
        let started = false;
        const decoder = new TextDecoder();
        try {
          for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
            if (!file.write(chunk)) await new Promise<void>((r) => file.once("drain", () => r()));
            const lines = (tail + decoder.decode(chunk, { stream: true })).split("\n");
            tail = lines.pop() ?? "";
            for (const line of lines) {
              if (line.startsWith('{"kind":"entry"')) entries++;
              else if (!started && line.startsWith('{"kind":"header"')) {
                const range = (JSON.parse(line) as { range: { from: number; to: number } }).range;
                if (showBar) bar.start(Math.max(0, range.to - range.from + 1), 0);
                started = true;
              }
            }
            if (showBar && started) bar.update(entries);
          }
          await new Promise<void>((resolve, reject) => file.end((e?: Error | null) => (e ? reject(e) : resolve())));
          renameSync(part, o.out);
        } catch (e) {
          file.destroy();
          rmSync(part, { force: true });
          throw e;
        } finally {
          if (showBar && started) bar.stop();
        }
        if (globals(cmd).json) return printJson({ out: o.out, entries });
        printFields([
          ["file", o.out],
          ["entries", entries],
        ]);
      },
    );

  program
    .command("checkpoint")
    .description("a signed checkpoint of the issuer's chain head")
    .action(async (_o: unknown, cmd: Command) => {
      const cp = await clientFor(cmd).checkpoint();
      if (globals(cmd).json) return printJson(cp);
      printFields([
        ["issuer", cp.issuer],
        ["size", cp.size],
        ["head", cp.head],
        ["time", cp.time],
        ["signer", cp.signer.cert],
      ]);
    });
}
