/**
 * `kakunin-verify tiles URL` (explicitly online): a published log (C2SP tlog-tiles, from the
 * server's `/v1/logs/<issuer>/` or any static copy written by `npm run publish-tiles`) checked
 * against pinned trust by `checks/tiles`. Every fetch has a deadline; a bounded number are in flight.
 * Exit codes as the other commands: 0 PASSED, 1 FAILED, 3 INDETERMINATE, 2 usage error or a log that
 * cannot be read (unreachable, HTTP errors, a deadline passed).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { checkTiles, type TilesReport, type TreeHasher } from "../checks/tiles/index.js";
import { parseCheckpoint } from "../formats/checkpoint.js";
import { openNote, parseNote, parseVerifierKey, type NoteVerifierKey } from "../formats/note.js";
import { parsePolicy, type TrustPolicy } from "../formats/policy.js";
import { strictUtf8Decoder } from "../parse/strict-json.js";
// Usage errors and unreadable files are the CLI's one InputError (exit 2), read by its one reader.
import { InputError as UsageError, readText } from "./cli-input.js";

const EXIT = { PASSED: 0, FAILED: 1, INDETERMINATE: 3, USAGE: 2 } as const;
/** Largest bodies accepted: a note (≤ 100 signature lines), a full hash tile, a full entry bundle. */
const MAX_BYTES = { checkpoint: 1 << 20, hash: 256 * 32, entries: 256 * (2 + 0xffff) } as const;

/** RFC 9162 hashes with node:crypto, synchronously: the same bytes as WebCrypto, several times faster per hash. */
const NODE_HASHER: TreeHasher = {
  leaf: (data) => new Uint8Array(createHash("sha256").update(Uint8Array.of(0)).update(data).digest()),
  children: (l, r) => new Uint8Array(createHash("sha256").update(Uint8Array.of(1)).update(l).update(r).digest()),
};

/** --log-key and --policy, as `receipt` and `consistency` read them; at least one log key. */
async function pinnedTrust(o: { logKey?: string[]; policy?: string }) {
  let policy: TrustPolicy | undefined;
  if (o.policy) {
    const file = o.policy;
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new UsageError(`cannot read policy ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    policy = await parsePolicy(new Uint8Array(bytes)).catch((e: Error) => {
      throw new UsageError(`policy ${file}:${(e as { line?: number }).line ?? 0}: ${e.message}`);
    });
  }
  const logKeys: NoteVerifierKey[] = [];
  for (const v of o.logKey ?? []) {
    logKeys.push(
      await parseVerifierKey(v).catch((e: Error) => {
        throw new UsageError(`--log-key ${v}: ${e.message}`);
      }),
    );
  }
  if (logKeys.length === 0 && !policy?.logs.length)
    throw new UsageError(
      "the log's verifier key is required: --log-key VKEY or --policy FILE with a log line (never taken from the log itself)",
    );
  return { logKeys, ...(policy ? { policy } : {}) };
}

/** The URL without credentials, for messages. */
const shown = (u: URL) => `${u.origin}${u.pathname}`;

/** The body of a 200 response, at most `max` bytes, read within the fetch's deadline. */
async function body(res: Response, max: number, url: URL): Promise<Uint8Array> {
  const len = Number(res.headers.get("content-length") ?? "0");
  if (len > max) throw new UsageError(`${shown(url)}: ${len} bytes, more than the ${max} it can be`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader();
  for (;;) {
    const r = reader ? await reader.read() : { done: true as const, value: undefined };
    if (r.done) break;
    total += r.value.byteLength;
    if (total > max) {
      await reader!.cancel();
      throw new UsageError(`${shown(url)}: more than the ${max} bytes it can be`);
    }
    chunks.push(r.value);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** GET `path` under the prefix with a deadline; undefined on 404. The token goes to entry bundles only. */
function fetcher(prefix: URL, timeoutMs: number, token: string | undefined) {
  return async (path: string, kind: keyof typeof MAX_BYTES): Promise<Uint8Array | undefined> => {
    const url = new URL(path, prefix);
    const headers: Record<string, string> = {};
    if (kind === "entries" && token) headers.authorization = `Bearer ${token}`;
    try {
      // With a token, no redirects: the token goes to the URL given and nowhere else.
      const res = await fetch(url, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: headers.authorization ? "manual" : "follow",
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        throw new UsageError(
          `${shown(url)}: redirected (HTTP ${res.status}); the token is only sent to the URL given: give the final URL`,
        );
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined;
      }
      if (kind === "entries" && (res.status === 401 || res.status === 403)) {
        await res.body?.cancel();
        throw new UsageError(
          res.status === 401
            ? `${shown(url)}: entry bundles need the issuer's token (HTTP 401): --token T or KAKUNIN_TOKEN`
            : `${shown(url)}: the token may not read this log's entry bundles (HTTP 403)`,
        );
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw new UsageError(`${shown(url)}: HTTP ${res.status} ${res.statusText}`.trimEnd());
      }
      return await body(res, MAX_BYTES[kind], url);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const why =
        err.name === "TimeoutError" || err.name === "AbortError"
          ? `no answer within ${timeoutMs} ms (--timeout-ms)`
          : (err.cause?.code ?? err.cause?.message ?? err.message);
      throw new UsageError(`cannot read ${shown(url)}: ${why}`);
    }
  };
}

/** Progress on stderr: a bar on a terminal, else a line every 10% for large logs. */
function progress(enabled: boolean) {
  let bar: cliProgress.SingleBar | undefined;
  let lastTenth = 0;
  return {
    update(done: number, total: number) {
      if (!enabled || total < 64) return;
      if (process.stderr.isTTY) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            { stream: process.stderr, format: "{bar} {value}/{total} tiles", hideCursor: true },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, 0);
        }
        bar.update(done);
      } else if (total >= 1000 && Math.floor((done * 10) / total) > lastTenth) {
        lastTenth = Math.floor((done * 10) / total);
        process.stderr.write(`kakunin-verify: ${done} of ${total} tiles\n`);
      }
    },
    stop: () => bar?.stop(),
  };
}

const MARK = { passed: "✓", failed: "✗", indeterminate: "?", skipped: "-" } as const;

function formatText(r: TilesReport): string {
  const cp = r.checkpoint;
  const claimed = cp && cp.signedBy.length === 0 ? " (as the unverified checkpoint says)" : "";
  let out = `${r.verdict}${cp ? `: ${cp.origin}: size ${cp.size}, root ${cp.root}${claimed}` : ""}\n`;
  for (const s of r.steps)
    out += `  ${MARK[s.status]} ${s.name}${s.detail && s.status !== "failed" ? `: ${s.detail}` : ""}\n`;
  for (const p of r.problems.slice(0, 50))
    out += `  ${p.verdict} ${p.code}${p.tile ? ` ${p.tile}` : ""}: ${p.message}\n`;
  if (r.problems.length > 50) out += `  … and ${r.problems.length - 50} more (--json lists all)\n`;
  if (r.evidence)
    out += `\nThe log signed two checkpoints that cannot both be true. Evidence (both signed notes):\n\n${r.evidence}`;
  return out;
}

interface TilesOptions {
  logKey?: string[];
  policy?: string;
  entries?: boolean;
  token?: string;
  since?: string;
  timeoutMs: string;
  concurrency: string;
  json?: boolean;
  progress?: boolean;
}

const positive = (v: string, name: string) => {
  if (!/^[1-9][0-9]{0,8}$/.test(v)) throw new UsageError(`${name} ${v} is not a positive integer`);
  return Number(v);
};

async function run(url: string, o: TilesOptions): Promise<number> {
  let prefix: URL;
  try {
    prefix = new URL(url.endsWith("/") ? url : `${url}/`);
  } catch {
    throw new UsageError(`${url} is not a URL (e.g. https://kakunin.example/v1/logs/iss_…/)`);
  }
  if (prefix.protocol !== "http:" && prefix.protocol !== "https:")
    throw new UsageError(`${url}: only http and https URLs can be read`);
  const timeoutMs = positive(o.timeoutMs, "--timeout-ms");
  const concurrency = positive(o.concurrency, "--concurrency");
  const trust = await pinnedTrust(o);
  const since = o.since !== undefined ? await sinceNote(o.since, trust) : undefined;
  const token = o.token ?? process.env.KAKUNIN_TOKEN ?? undefined;
  const get = fetcher(prefix, timeoutMs, token || undefined);

  const noteBytes = await get("checkpoint", "checkpoint");
  if (!noteBytes) throw new UsageError(`${shown(new URL("checkpoint", prefix))}: no checkpoint (HTTP 404)`);
  let checkpoint: string;
  try {
    checkpoint = strictUtf8Decoder().decode(noteBytes);
  } catch {
    throw new UsageError(`${shown(new URL("checkpoint", prefix))} is not valid UTF-8`);
  }
  const bar = progress(o.progress !== false && !o.json);
  let report: TilesReport;
  try {
    report = await checkTiles({
      fetchTile: get,
      checkpoint,
      ...trust,
      entries: Boolean(o.entries),
      ...(since !== undefined ? { since } : {}),
      concurrency,
      hasher: NODE_HASHER,
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.stop();
  }
  process.stdout.write(o.json ? `${JSON.stringify({ url: shown(prefix), ...report }, null, 2)}\n` : formatText(report));
  return EXIT[report.verdict];
}

/** The --since note: readable, and signed by a pinned log key (a note nobody can attribute to the log proves nothing). */
async function sinceNote(file: string, trust: { logKeys: NoteVerifierKey[]; policy?: TrustPolicy }): Promise<string> {
  const text = readText(file, "--since checkpoint");
  let origin: string;
  try {
    origin = parseCheckpoint(parseNote(text).text).origin;
  } catch (e) {
    throw new UsageError(`--since ${file}: ${(e as Error).message}`);
  }
  const keys = [...trust.logKeys, ...(trust.policy?.logs.map((l) => l.key) ?? [])].filter((k) => k.name === origin);
  if (keys.length === 0)
    throw new UsageError(`--since ${file}: no pinned log key is named after its origin "${origin}"`);
  await openNote(text, keys).catch((e: Error) => {
    throw new UsageError(`--since ${file}: ${e.message}`);
  });
  return text;
}

/** Adds the `tiles` command to the kakunin-verify program. */
export function addTilesCommand(p: Command): void {
  p.command("tiles")
    .argument("<url>", "a log prefix: https://HOST/v1/logs/<issuer id>/ or a static copy of it (publish-tiles)")
    .description("check a published log online: its signed checkpoint, every hash tile, the root (explicitly online)")
    .option("--log-key <vkey...>", "the log's pinned signed-note verifier key(s) (<origin>+<id>+<base64>)")
    .option("--policy <file>", "a C2SP tlog-policy: its log keys, and the witness quorum the checkpoint needs")
    .option("--entries", "also fetch the entry bundles and check each leaf hash against the level-0 tiles", false)
    .option("--token <token>", "issuer token for entry bundles that are not public (or env KAKUNIN_TOKEN)")
    .option("--since <file>", "an older signed checkpoint you kept: the published tree must extend it")
    .option("--timeout-ms <ms>", "deadline of each fetch", "10000")
    .option("--concurrency <n>", "fetches in flight at once", "8")
    .option("--no-progress", "no progress on stderr")
    .option("--json", "print the report as JSON", false)
    .action(async (url: string, o: TilesOptions) => {
      try {
        process.exitCode = await run(url, o);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        process.stderr.write(`kakunin-verify: ${e.message}\n`);
        process.exitCode = EXIT.USAGE;
      }
    });
}
