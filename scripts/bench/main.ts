/**
 * Benchmark runner: `npm run bench` runs every suite, `npm run bench -- append` runs one.
 * A suite is a file scripts/bench/<name>.ts exporting `description` and `run(args)`; add one by
 * adding a file (lib.ts and main.ts are not suites).
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export interface Suite {
  description: string;
  run(args: string[]): Promise<void>;
}

// Child processes inherit this: the AWS SDK's "Node 22 from 2027" notice would clutter the tables.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && !["main.ts", "lib.ts"].includes(f) && !f.endsWith(".d.ts"))
  .map((f) => f.slice(0, -3))
  .sort();

async function main() {
  const [wanted, ...rest] = process.argv.slice(2).filter((a) => a !== "--");
  if (wanted === "--help" || wanted === "-h") {
    console.log(`usage: npm run bench [-- <suite> [suite args]]\nsuites: ${available.join(", ")}`);
    return;
  }
  const names = wanted ? [wanted] : available;
  for (const name of names) {
    if (!available.includes(name)) throw new Error(`unknown suite ${name}; suites: ${available.join(", ")}`);
    const suite = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as Suite;
    console.log(`\n=== ${name}: ${suite.description} ===`);
    await suite.run(wanted ? rest : []);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
