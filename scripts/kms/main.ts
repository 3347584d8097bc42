import { ConfigError, parseConfig, USAGE } from "./config.js";
import { startKmsServer } from "./server.js";

/** Entry point of `npm run kms`. Prints exactly one "listening" line on stdout once ready. */
async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (err) {
    const message =
      err instanceof ConfigError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
        ? (err as Error).message
        : String(err);
    process.stderr.write(`${message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (config === "help") {
    process.stdout.write(USAGE);
    return;
  }

  const kms = await startKmsServer(config);
  process.stdout.write(`Local KMS listening on ${kms.url} (region ${config.region}, data ${config.dataDir})\n`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    kms.close().then(
      () => process.exit(0),
      (err) => {
        console.error(`local KMS: error during ${signal} shutdown`, err);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err) => {
  console.error("local KMS failed to start:", err);
  process.exit(1);
});
