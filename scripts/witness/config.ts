/** Command line of `kakunin-witness`: flags, the logs file, and the help text. */
import { readFileSync } from "node:fs";

/** One log the witness follows: an exact origin (the key's name) or every origin under a prefix. */
export interface LogEntry {
  /** Verifier key of the log (signed-note Ed25519, type 0x01). */
  vkey: string;
  /** Set for `--log-prefix`: origins starting with it are accepted under this key. */
  originPrefix?: string;
}

/** The witness's configuration after parsing. */
export interface WitnessConfig {
  port: number;
  host: string;
  dataDir: string;
  name: string;
  prefix: string;
  kmsKeyId?: string;
  kmsEndpoint?: string;
  kmsRegion: string;
  kmsTimeoutMs: number;
  keyFile?: string;
  logs: LogEntry[];
}

/** A bad command line or logs file; main prints the message and exits with code 2. */
export class ConfigError extends Error {
  readonly code = "ERR_WITNESS_CONFIG";
}

export const HELP = `kakunin-witness — a C2SP tlog-witness (c2sp.org/tlog-witness) with Ed25519 cosignature/v1

Usage: npm run witness -- --name NAME (--kms-key-id ID | --key-file FILE) [--log VKEY]... [options]

Identity
  --name NAME               the witness's key name (a schema-less URL, e.g. witness.example/w1)
  --kms-key-id ID           sign with this AWS KMS key (KeySpec ECC_NIST_EDWARDS25519) — the default mode
  --kms-endpoint URL        KMS endpoint (default: $KMS_ENDPOINT, else AWS's)
  --kms-region REGION       KMS region (default: $AWS_REGION, else eu-west-1)
  --kms-timeout-ms N        deadline of every KMS call (default 5000)
  --key-file FILE           sign with a local Ed25519 key; created (mode 0600) if absent

Logs witnessed (at least one)
  --log VKEY                a log's verifier key; its name is the log origin (repeatable)
  --log-prefix PREFIX VKEY  every origin starting with PREFIX, signed by VKEY (repeatable)
  --logs FILE               one entry a line: "VKEY" or "prefix PREFIX VKEY"; '#' starts a comment

Server
  --port N                  TCP port (default 7380; 0 picks a free one)
  --host HOST               listen address (default 127.0.0.1)
  --prefix PATH             URL prefix of the API, e.g. /witness (default: none)
  --data-dir DIR            one SQLite file per origin (default .data/witness)
  --help                    this text

Endpoints
  POST <prefix>/add-checkpoint         tlog-witness add-checkpoint
  GET  <prefix>/<sha256(origin)>/checkpoint   the latest cosigned checkpoint of a log
  GET  <prefix>/                       this witness's vkey and the logs it follows (JSON)

At start it prints "witness vkey: <name>+<hex id>+<base64>" and "witness listening: <url>".
`;

function parseInteger(flag: string, value: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max)
    throw new ConfigError(`${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return Number(value);
}

/** Reads a logs file: blank lines and '#' comments are skipped; errors name the line. */
export function parseLogsFile(path: string, text: string): LogEntry[] {
  const out: LogEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const words = line.split(/\s+/);
    if (words.length === 1) out.push({ vkey: words[0]! });
    else if (words.length === 3 && words[0] === "prefix") out.push({ originPrefix: words[1]!, vkey: words[2]! });
    else throw new ConfigError(`${path}:${i + 1}: expected "VKEY" or "prefix PREFIX VKEY"`);
  });
  return out;
}

/** Parses argv (without node and script). Returns "help" for --help. */
export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): WitnessConfig | "help" {
  const cfg: WitnessConfig = {
    port: 7380,
    host: "127.0.0.1",
    dataDir: ".data/witness",
    name: "",
    prefix: "",
    kmsEndpoint: env.KMS_ENDPOINT || undefined,
    kmsRegion: env.AWS_REGION || "eu-west-1",
    kmsTimeoutMs: 5000,
    logs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new ConfigError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--help":
      case "-h":
        return "help";
      case "--port":
        cfg.port = parseInteger(flag, next(), 0, 65535);
        break;
      case "--host":
        cfg.host = next();
        break;
      case "--data-dir":
        cfg.dataDir = next();
        break;
      case "--name":
        cfg.name = next();
        break;
      case "--prefix":
        cfg.prefix = next().replace(/\/+$/, "");
        break;
      case "--kms-key-id":
        cfg.kmsKeyId = next();
        break;
      case "--kms-endpoint":
        cfg.kmsEndpoint = next();
        break;
      case "--kms-region":
        cfg.kmsRegion = next();
        break;
      case "--kms-timeout-ms":
        cfg.kmsTimeoutMs = parseInteger(flag, next(), 1, 600_000);
        break;
      case "--key-file":
        cfg.keyFile = next();
        break;
      case "--log":
        cfg.logs.push({ vkey: next() });
        break;
      case "--log-prefix": {
        const originPrefix = next();
        cfg.logs.push({ originPrefix, vkey: next() });
        break;
      }
      case "--logs": {
        const path = next();
        let text: string;
        try {
          text = readFileSync(path, "utf8");
        } catch (e) {
          throw new ConfigError(`--logs ${path}: ${(e as Error).message}`);
        }
        cfg.logs.push(...parseLogsFile(path, text));
        break;
      }
      default:
        throw new ConfigError(`unknown option "${flag}" (see --help)`);
    }
  }
  if (cfg.name === "") throw new ConfigError("--name is required (the witness's key name)");
  if (cfg.prefix !== "" && !cfg.prefix.startsWith("/")) throw new ConfigError("--prefix must start with '/'");
  if (cfg.kmsKeyId && cfg.keyFile) throw new ConfigError("give either --kms-key-id or --key-file, not both");
  if (!cfg.kmsKeyId && !cfg.keyFile)
    throw new ConfigError("a signing key is required: --kms-key-id ID (KMS) or --key-file FILE");
  if (cfg.logs.length === 0) throw new ConfigError("no logs to witness: give --log, --log-prefix or --logs");
  if (cfg.logs.some((l) => l.originPrefix === ""))
    throw new ConfigError("--log-prefix needs a non-empty origin prefix");
  return cfg;
}
