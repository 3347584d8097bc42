/**
 * Kakunin API server: loadConfig → db + migrations → KMS custody → bootstrap → createApp → serve.
 *
 *   npm run server                              # start (prints the operator token on first start only)
 *   npm run server -- --new-operator-token      # revoke all operator tokens, print a new one, start
 */
import { serve } from "@hono/node-server";
import { loadConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { rotateOperatorToken, startServices } from "./bootstrap.js";
import { createApp } from "./app.js";
import { startScheduler } from "./scheduler/renewal.js";

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const services = await startServices(config, logger);
  const { deps } = services;
  let operatorToken = services.newOperatorToken;
  if (process.argv.includes("--new-operator-token")) operatorToken = await rotateOperatorToken(deps.db, deps.now());

  const app = createApp(deps);
  const stopScheduler = startScheduler(deps);
  const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    const host = info.address.includes(":") ? `[${info.address}]` : info.address;
    // Plain stdout lines (not log records): tools and tests parse them.
    process.stdout.write(`Kakunin API listening on http://${host}:${info.port}\n`);
    if (operatorToken) {
      process.stdout.write(
        `\nOperator token (shown once; only its hash is stored — mint a new one with \`npm run server -- --new-operator-token\`):\n  ${operatorToken}\n\n`,
      );
      operatorToken = undefined;
    }
  });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.close(async () => {
      await stopScheduler();
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
