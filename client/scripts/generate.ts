/**
 * Regenerates src/api.gen.ts from the document a real server serves: starts the local KMS and the
 * server (the test helpers), fetches /openapi.json, renders it with openapi-typescript.
 * `npm run generate -w client` (or `-- --url http://host/openapi.json` for a running server).
 */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { startLocalKms } from "../../test/helpers/kms.js";
import { startServer } from "../../test/helpers/server.js";
import { GENERATED_TYPES, renderTypes } from "./types.js";

async function fetchDocument(url: string): Promise<object> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as object;
}

async function main() {
  const i = process.argv.indexOf("--url");
  let doc: object;
  if (i > 0 && process.argv[i + 1]) {
    doc = await fetchDocument(process.argv[i + 1]!);
  } else {
    const kms = await startLocalKms();
    const server = await startServer({ kmsEndpoint: kms.endpoint }).catch(async (e) => {
      await kms.stop();
      throw e;
    });
    try {
      doc = await fetchDocument(`${server.url}/openapi.json`);
    } finally {
      await server.stop();
      await kms.stop();
    }
  }
  await writeFile(GENERATED_TYPES, await renderTypes(doc));
  process.stdout.write(`wrote ${fileURLToPath(GENERATED_TYPES)}\n`);
}

await main();
