/**
 * `npm start`: the whole stack on one machine, for a newcomer.
 *
 * 1. the local KMS (its own process and data directory: key material never enters the API's process),
 * 2. the dev TSA and one local `kakunin-witness` (scripts/start-trust-services.ts; optional: one that
 *    fails to start is reported and the rest runs without it),
 * 3. the API server on SQLite (prints the operator token on its first start), configured with them,
 * 4. the portal, built with the current public directory and served beside the API.
 *
 * Ctrl-C stops everything. Data lives in `.data/` (git-ignored); delete it to start afresh.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  checkpointVerifierKey,
  planDevWitness,
  startDevTsa,
  startDevWitness,
  trustServicesEnv,
  type DevTsa,
  type DevWitness,
} from "./start-trust-services.js";

/** The lines of GET /v1/public/log-keys (every issuer log's current and retired keys); none if it does not answer. */
async function publishedLogKeys(apiUrl: string): Promise<string[]> {
  try {
    const res = await fetch(`${apiUrl}/v1/public/log-keys`, { signal: AbortSignal.timeout(5000) });
    return res.ok ? (await res.text()).split("\n").filter((l) => l.length > 0) : [];
  } catch {
    return [];
  }
}

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const { values: opts } = parseArgs({
  options: {
    "data-dir": { type: "string", default: process.env.DATA_DIR ?? join(root, ".data") },
    "kms-port": { type: "string", default: process.env.KMS_PORT ?? "4599" },
    port: { type: "string", default: process.env.PORT ?? "8080" },
    "portal-port": { type: "string", default: process.env.PORTAL_PORT ?? "4321" },
    "tsa-port": { type: "string", default: process.env.TSA_PORT ?? "3161" },
    "witness-port": { type: "string", default: process.env.WITNESS_PORT ?? "7380" },
    "skip-portal": { type: "boolean", default: false },
    "skip-tsa": { type: "boolean", default: false },
    "skip-witness": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (opts.help) {
  console.log(`Usage: npm start [-- options]

Starts the local KMS, the dev TSA, a local witness, the Kakunin API (SQLite) and the regulator portal.

Options:
  --data-dir DIR      where the KMS keys and the database live (default .data)
  --kms-port N        local KMS port (default 4599)
  --port N            API port (default 8080)
  --portal-port N     portal port (default 4321)
  --tsa-port N        dev TSA port (default 3161)
  --witness-port N    local kakunin-witness port (default 7380)
  --skip-portal       do not build and serve the portal
  --skip-tsa          no dev TSA (or set KAKUNIN_TSA_URLS yourself)
  --skip-witness      no local witness (or set KAKUNIN_WITNESSES / KAKUNIN_WITNESS_POLICY yourself)
`);
  process.exit(0);
}

const dataDir = opts["data-dir"]!;
// The AWS SDK warns on every start that its 2027 releases will need Node 22; we pin Node 20 knowingly.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
const children: ChildProcess[] = [];

/** Starts a TypeScript entry point under tsx and resolves with the first stdout line matching `ready`. */
function start(
  name: string,
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  /** optional: stopping after it was ready is reported, the stack keeps running */
  opts: { optional?: boolean } = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray; output: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, entry), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const output: string[] = [];
    let settled = false;
    let buffered = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        output.push(line);
        const match = line.match(ready);
        if (!settled && match) {
          settled = true;
          resolve({ child, match, output });
        } else if (settled && process.env.KAKUNIN_DEV_VERBOSE) {
          console.log(`[${name}] ${line}`);
        }
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => process.stderr.write(`[${name}] ${chunk}`));
    child.on("exit", (code, signal) => {
      if (!settled) {
        settled = true;
        reject(new Error(`${name} exited (${signal ?? code}) before it was ready:\n${output.join("\n")}`));
      } else if (!shuttingDown && opts.optional) {
        console.warn(`! ${name} stopped (${signal ?? code}); the rest keeps running without it.`);
      } else if (!shuttingDown) {
        console.error(`${name} stopped unexpectedly (${signal ?? code}); stopping the stack.`);
        void shutdown(1);
      }
    });
  });
}

/** Runs a command to completion, inheriting stdio; rejects on a non-zero exit. */
function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: "inherit" });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(" ")} exited with ${code}`))));
  });
}

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const child of children.reverse()) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 300));
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function main(): Promise<void> {
  console.log("Kakunin: starting the local KMS, the dev TSA, a witness, the API and the portal…");

  const kms = await start(
    "kms",
    "scripts/kms/main.ts",
    ["--port", opts["kms-port"]!, "--data-dir", join(dataDir, "kms")],
    {},
    /listening on (http:\/\/\S+)/,
  );
  const kmsEndpoint = kms.match[1]!;

  // An operator's own witnesses / TSAs win over the local ones.
  const ownTsa = !!process.env.KAKUNIN_TSA_URLS;
  const ownWitness = !!(process.env.KAKUNIN_WITNESSES || process.env.KAKUNIN_WITNESS_POLICY);
  const tsa: DevTsa | undefined =
    opts["skip-tsa"] || ownTsa
      ? undefined
      : await startDevTsa(start, { kmsEndpoint, port: opts["tsa-port"]!, dataDir });
  const witness: DevWitness | undefined =
    opts["skip-witness"] || ownWitness ? undefined : await planDevWitness({ dataDir, port: opts["witness-port"]! });

  const api = await start(
    "api",
    "server/main.ts",
    [],
    {
      KMS_ENDPOINT: kmsEndpoint,
      DATA_DIR: dataDir,
      PORT: opts.port!,
      KAKUNIN_PUBLIC_URL: `http://127.0.0.1:${opts.port}`,
      // Reconciliation against the local KMS's own CloudTrail-shaped files (server/monitoring/README.md).
      KAKUNIN_CLOUDTRAIL: process.env.KAKUNIN_CLOUDTRAIL ?? `dir:${join(dataDir, "kms", "cloudtrail")}`,
      ...trustServicesEnv(tsa, witness),
    },
    /listening on (http:\/\/\S+)/,
  );
  const apiUrl = api.match[1]!;
  // The server prints the operator token (only on its very first start: it stores only a hash)
  // right after its "listening" line; give that line a moment to arrive.
  await new Promise((r) => setTimeout(r, 300));
  const operatorToken = api.output.join("\n").match(/kkn_op_[A-Za-z0-9_-]+/)?.[0];

  // The log name is KAKUNIN_PUBLIC_URL without its scheme unless KAKUNIN_LOG_NAME says otherwise.
  const logName = process.env.KAKUNIN_LOG_NAME || `127.0.0.1:${opts.port}`;
  const witnessUp = witness
    ? await checkpointVerifierKey(kmsEndpoint, logName).then(
        async (vkey) => startDevWitness(start, witness, `${logName}/`, vkey, await publishedLogKeys(apiUrl)),
        (e: unknown) => {
          console.warn(`! The server's checkpoint key cannot be read (${(e as Error).message}); no local witness.`);
          return false;
        },
      )
    : false;

  let portalUrl: string | undefined;
  if (!opts["skip-portal"] && existsSync(join(root, "scripts/export-directory.ts"))) {
    console.log("Building the portal with the current directory…");
    await run(["--import", "tsx", join(root, "scripts/export-directory.ts"), "--api", apiUrl]);
    await run([join(root, "node_modules/astro/astro.js"), "build", "--silent"], {
      KAKUNIN_API_URL: apiUrl,
      ASTRO_TELEMETRY_DISABLED: "1",
    });
    const { serveSite } = await import("./serve-site.js");
    const site = await serveSite({
      dir: join(root, "site/dist"),
      port: Number(opts["portal-port"]),
      host: "127.0.0.1",
    });
    portalUrl = site.url;
  }

  console.log(`
Kakunin is running.
  API          ${apiUrl}        (OpenAPI: ${apiUrl}/openapi.json, docs: ${apiUrl}/docs)
  Portal       ${portalUrl ?? "(not built)"}
  Local KMS    ${kmsEndpoint}   (keys in ${join(dataDir, "kms")})
  Dev TSA      ${tsa ? `${tsa.url}   (pinned CA: ${tsa.trustFile})` : ownTsa ? "(KAKUNIN_TSA_URLS from your environment)" : "(not running: checkpoints are not timestamped)"}
  Witness      ${witness && witnessUp ? `${witness.url}   vkey ${witness.vkey}` : ownWitness ? "(KAKUNIN_WITNESSES / KAKUNIN_WITNESS_POLICY from your environment)" : "(not running: checkpoints are published unwitnessed, flagged)"}
  Database     ${join(dataDir, "kakunin.db")}
  Operator     ${
    operatorToken
      ? `${operatorToken}\n               (shown once: the server keeps only its hash. Save it now.)`
      : "token was printed on the first start; to mint a new one: npm run server -- --new-operator-token"
  }

Try it (README, "First steps"). Press Ctrl-C to stop.`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  void shutdown(1);
});
