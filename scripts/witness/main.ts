/** `kakunin-witness`: parses the command line, opens the key, prints the vkey and serves. */
import { serve } from "@hono/node-server";
import pino from "pino";
import { formatCosignerVerifierKey } from "../../verifier/src/formats/index.js";
import { addCheckpointHandler } from "./add-checkpoint.js";
import { ConfigError, HELP, parseArgs } from "./config.js";
import { fileSigner, kmsSigner, SignerError, type WitnessSigner } from "./signer.js";
import { Stores } from "./store.js";
import { TrustedLogs } from "./trust.js";
import { witnessApp } from "./server.js";

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  if (cfg === "help") {
    process.stdout.write(HELP);
    return;
  }
  const log = pino({ name: "kakunin-witness" }, pino.destination(2));
  const logs = await TrustedLogs.from(cfg.logs);
  const signer: WitnessSigner = cfg.keyFile
    ? fileSigner(cfg.keyFile)
    : await kmsSigner({
        keyId: cfg.kmsKeyId!,
        region: cfg.kmsRegion,
        timeoutMs: cfg.kmsTimeoutMs,
        ...(cfg.kmsEndpoint ? { endpoint: cfg.kmsEndpoint } : {}),
      });
  let vkey: string;
  try {
    vkey = await formatCosignerVerifierKey(cfg.name, signer.publicKey);
  } catch (e) {
    throw new ConfigError(`--name "${cfg.name}": ${(e as Error).message}`);
  }
  const stores = new Stores(cfg.dataDir);
  const addCheckpoint = addCheckpointHandler({ name: cfg.name, signer, logs, stores });
  const app = witnessApp({ prefix: cfg.prefix, name: cfg.name, vkey, logs, stores, addCheckpoint, log });
  process.stdout.write(`witness vkey: ${vkey}\n`);
  const server = serve({ fetch: app.fetch, port: cfg.port, hostname: cfg.host }, (info) => {
    process.stdout.write(`witness listening: http://${cfg.host}:${info.port}${cfg.prefix}/\n`);
    log.info(
      {
        key: signer.describe,
        dataDir: cfg.dataDir,
        origins: [...logs.exact.keys()],
        prefixes: logs.prefixes.map((x) => x.prefix),
      },
      "witness started",
    );
  });
  const stop = () => {
    // Idle keep-alive connections would hold close() open; a request in flight gets 2 s to finish.
    server.close(() => {
      stores.closeAll();
      process.exit(0);
    });
    (server as import("node:http").Server).closeIdleConnections?.();
    setTimeout(() => {
      stores.closeAll();
      process.exit(0);
    }, 2000).unref();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((e: unknown) => {
  const err = e as Error;
  const known = err instanceof ConfigError || err instanceof SignerError;
  process.stderr.write(`kakunin-witness: ${known ? err.message : (err.stack ?? String(err))}\n`);
  process.exit(known ? 2 : 1);
});
