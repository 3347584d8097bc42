/**
 * Kakunin API server: loadConfig → db + migrations → KMS custody → bootstrap → createApp → serve.
 *
 *   npm run server                              # start (prints the operator token on first start only)
 *   npm run server -- --new-operator-token      # revoke all operator tokens, print a new one, start
 *   npm run server -- --rotate-log-key [--prepare]
 *       # rotate the log v2 checkpoint key (or, with --prepare, only create the next one), print the
 *       # old and new verifier keys as JSON and exit. See server/deploy/README.md ("Log key rotation").
 *   npm run server -- --acknowledge-fork <issuer id> [--reason "<text>"]
 *       # an issuer's chain is frozen (ERR_CHAIN_FORK_SUSPECTED: the database disagrees with the
 *       # witnessed checkpoints): record, in the witness, that the chain continues from the database's
 *       # current head, print the record and exit. See server/deploy/README.md ("Backups and restores").
 */
import { serve } from "@hono/node-server";
import { loadServerConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { startServices } from "./bootstrap.js";
import { rotateOperatorToken } from "./authority/operator-token.js";
import { createApp } from "./app.js";
import { hardenHttpServer, httpServerOptions } from "./http/node-server.js";
import { startCertificateMaintenance } from "./jobs/certificate-maintenance.js";
import { publishDueCheckpoints, startCheckpointScheduler } from "./jobs/publish-checkpoints.js";
import { startKeyUsageReconciliation } from "./jobs/reconcile-key-usage.js";
import { acknowledgeFork } from "./log/fork-guard/acknowledge.js";
import { rotateLogKey } from "./authority/rotate-log-key.js";
import { formatVerifierKey } from "../verifier/src/formats/index.js";

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const config = await loadServerConfig();
  const logger = createLogger(config.logLevel);
  const services = await startServices(config, logger, { scheduledCheckpoints: true });
  const { deps } = services;
  let operatorToken = services.newOperatorToken;
  if (process.argv.includes("--new-operator-token")) operatorToken = await rotateOperatorToken(deps.db, deps.now());
  if (process.argv.includes("--rotate-log-key")) {
    const r = await rotateLogKey(deps, { prepare: process.argv.includes("--prepare") });
    const vkey = (k: { publicKey: Uint8Array }) => formatVerifierKey(config.logName, k.publicKey);
    const out = {
      status: r.status,
      rotationId: r.rotationId,
      resumed: r.resumed,
      previous: { arn: r.previous.arn, vkey: await vkey(r.previous) },
      next: { arn: r.next.arn, vkey: await vkey(r.next) },
    };
    logger.warn(out, r.status === "rotated" ? "log key rotated" : "next log key prepared");
    process.stdout.write(`${JSON.stringify(out)}
`);
    await services.close();
    process.exit(0);
  }
  const forked = argValue("--acknowledge-fork");
  if (forked !== undefined) {
    const guard = services.forkGuard;
    if (!deps.log || !guard) throw new Error("--acknowledge-fork needs the audit log");
    const ack = await acknowledgeFork(
      deps.log.store,
      guard.archive,
      forked,
      argValue("--reason") ?? "acknowledged by the operator",
      deps.now(),
      guard.treeArchive,
    );
    logger.warn(
      { ack },
      "fork acknowledged: the chain continues from the database's current head; checkpoints handed out beyond it no longer match",
    );
    guard.forget(forked);
    const still = await guard.status(forked, true);
    if (still) throw new Error(`issuer ${forked} is still frozen after the acknowledgement: ${still}`);
    process.stdout.write(`Fork acknowledged in the witness:\n${JSON.stringify(ack)}\n`);
    await services.close();
    process.exit(0);
  }

  const app = createApp(deps);
  const stopMaintenance = startCertificateMaintenance(deps);
  const stopCheckpoints = startCheckpointScheduler(deps);
  const stopReconciliation = startKeyUsageReconciliation(deps);
  const server = serve(
    { fetch: app.fetch, port: config.port, hostname: config.host, serverOptions: httpServerOptions(config) },
    (info) => {
      const host = info.address.includes(":") ? `[${info.address}]` : info.address;
      // Plain stdout lines (not log records): tools and tests parse them.
      process.stdout.write(`Kakunin API listening on http://${host}:${info.port}\n`);
      if (operatorToken) {
        process.stdout.write(
          `\nOperator token (shown once; only its hash is stored — mint a new one with \`npm run server -- --new-operator-token\`):\n  ${operatorToken}\n\n`,
        );
        operatorToken = undefined;
      }
    },
  );

  hardenHttpServer(server as import("node:http").Server, config);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(async () => {
      await stopMaintenance();
      await stopCheckpoints();
      await stopReconciliation();
      await deps.log?.close(); // drain in-flight appends
      // A last checkpoint (witnessed) covering everything acknowledged before the shutdown.
      await publishDueCheckpoints(deps).catch((e) => logger.warn({ err: String(e) }, "final checkpoint failed"));
      await services.close();
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((e: unknown) => {
  const err = e as Error & { code?: string };
  process.stderr.write(`Kakunin failed to start: ${err.code ? `${err.code}: ` : ""}${err.message}\n`);
  process.exit(1);
});
