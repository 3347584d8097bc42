/**
 * `npm run publish-tiles -- --out DIR [--entries]`: writes the published log (every issuer's latest
 * checkpoint, its C2SP tiles, `v1/logs/index.json`, `v1/public/log-keys`) to DIR, from the
 * database alone (DATABASE_URL / DATA_DIR as the server reads them; no KMS call), so a static host
 * or object store can serve it. `--entries` adds the entry bundles (default: KAKUNIN_PUBLIC_ENTRIES).
 * Exit 2 on bad arguments, 1 when the database has no log key yet.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import type { Kysely } from "kysely";
import { loadConfig } from "../server/config.js";
import { createDb } from "../server/db/connect.js";
import type { Database } from "../server/db/schema.js";
import { storedCheckpointKeys } from "../server/authority/log-keys.js";
import { storedSystemKey } from "../server/authority/system-keys.js";
import { KyselyLogStore } from "../server/log/storage/kysely-store.js";
import { LogV2 } from "../server/log/tree/log-v2.js";
import { writeAllTiles } from "../server/log/tree/tiles-writer.js";

function usage(msg: string): never {
  process.stderr.write(`publish-tiles: ${msg}\nusage: npm run publish-tiles -- --out DIR [--entries]\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({ options: { out: { type: "string" }, entries: { type: "boolean" } }, strict: true });
} catch (e) {
  usage((e as Error).message);
}
const out = args.values.out;
if (!out) usage("--out DIR is required");
const config = loadConfig();
const handle = await createDb(config.databaseUrl);
try {
  const db = handle.db as Kysely<Database>;
  const key = await storedSystemKey(db, "tlog");
  if (!key) {
    process.stderr.write("publish-tiles: no log key in this database yet (start the server once)\n");
    process.exitCode = 1;
  } else {
    const v2 = new LogV2({
      store: new KyselyLogStore({ db, dialect: handle.dialect }),
      signer: {
        signEd25519: () => Promise.reject(new Error("publish-tiles never signs")),
      },
      keys: storedCheckpointKeys(db),
      logName: config.logName,
      intervalMs: config.checkpointIntervalMs,
      issuerIds: async () =>
        (await db.selectFrom("issuers").select("id").orderBy("created_at").orderBy("id").execute()).map((r) => r.id),
      now: () => new Date(),
    });
    const reports = await writeAllTiles(v2, path.resolve(out), {
      entries: args.values.entries ?? config.publicEntries,
    });
    for (const r of reports) process.stdout.write(`${r.issuer} size ${r.size}: ${r.written} files\n`);
    await v2.close();
  }
} finally {
  await handle.close();
}
