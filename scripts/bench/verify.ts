/**
 * Offline verification throughput: the kakunin-verify CLI over a generated `kakunin-log/1` export of
 * N entries (default 1,000,000), end to end (spawned, reading the file, all cores), with its peak RSS;
 * beside `openssl speed -multi <cores> rsa2048` verify/s measured in the same run, and beside a plain
 * shell loop calling `openssl dgst -verify` once per entry (what an auditor does by hand). Every run
 * recomputes the log v2 tree (the export starts at seq 0); the "tree checkpoints" row runs on a copy
 * with signed tree-checkpoint lines (verify/add-tree.ts, cached beside the export) with --log-key.
 *
 *   npm run bench -- verify [--entries 1000000] [--workers <cores>] [--sample 200] [--regenerate] [--generate-only] [--skip-no-native]
 *
 * The export is FORMATS.md exactly: a CA, a log signer and 8 agents made here (@peculiar/x509),
 * one rotation, one revocation, every entry with its own valid RSASSA-PSS signature (signed with
 * node:crypto in worker threads). It is generated once into .data/bench/verify-<N>.ndjson and reused.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cores, fmt, table } from "./lib.js";
import { AGENTS, generate, type Meta } from "./verify/generate-export.js";
import { opensslVerifyRate, runCli, shellLoop } from "./verify/measure.js";
import { addTreeCheckpoints } from "./verify/add-tree.js";

export const description =
  "kakunin-verify entries/s and peak RSS on an N-entry export vs openssl speed (all cores) and an openssl dgst shell loop";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Tree-checkpoint lines in the tree pass's export. */
const TREE_CHECKPOINTS = 8;

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      entries: { type: "string", default: "1000000" },
      workers: { type: "string" },
      sample: { type: "string", default: "200" },
      regenerate: { type: "boolean", default: false },
      "generate-only": { type: "boolean", default: false },
      "skip-no-native": { type: "boolean", default: false },
    },
  });
  const n = Number(values.entries);
  if (!Number.isInteger(n) || n < AGENTS + 2) throw new Error(`--entries must be an integer ≥ ${AGENTS + 2}`);
  const workers = values.workers ? Number(values.workers) : undefined;
  const file = join(ROOT, ".data", "bench", `verify-${n}.ndjson`);
  const metaFile = `${file}.json`;
  let meta: Meta;
  if (!values.regenerate && existsSync(file) && existsSync(metaFile)) {
    meta = JSON.parse(readFileSync(metaFile, "utf8")) as Meta;
    console.log(`export: ${file} (cached; generated in ${fmt(meta.generatedIn, 0)} s)`);
  } else {
    console.log(`generating ${n} signed entries into ${file} (${cores} signing workers)…`);
    meta = await generate(n, file);
    writeFileSync(metaFile, JSON.stringify(meta));
    console.log(`generated in ${fmt(meta.generatedIn, 1)} s`);
  }

  if (values["generate-only"]) return;
  const osslAll = opensslVerifyRate(3, cores);
  const ossl1 = opensslVerifyRate(3, 1);
  const cli = await runCli(file, meta.caFingerprint, workers);
  if (cli.exit !== 0)
    throw new Error(
      `kakunin-verify exited ${cli.exit} on the generated export (expected 0):\n${cli.stdout.slice(0, 2000)}`,
    );
  const cliRate = n / cli.seconds;
  // The same without the optional native addon (node:crypto in the workers), for comparison.
  const plain = values["skip-no-native"] ? undefined : await runCli(file, meta.caFingerprint, workers, ["--no-native"]);
  if (plain && plain.exit !== 0)
    throw new Error(`kakunin-verify --no-native exited ${plain.exit} on the generated export (expected 0)`);
  // The tree pass: the same export with signed tree-checkpoint lines, verified with the log key pinned.
  const treeFile = file.replace(/\.ndjson$/, "-tree.ndjson");
  const treeMeta = `${treeFile}.json`;
  let vkey: string;
  if (!values.regenerate && existsSync(treeFile) && existsSync(treeMeta)) {
    vkey = (JSON.parse(readFileSync(treeMeta, "utf8")) as { vkey: string }).vkey;
  } else {
    const t0 = performance.now();
    vkey = await addTreeCheckpoints(file, treeFile, n, TREE_CHECKPOINTS);
    writeFileSync(treeMeta, JSON.stringify({ vkey }));
    console.log(`tree checkpoints added in ${fmt((performance.now() - t0) / 1000, 1)} s: ${treeFile}`);
  }
  const tree = await runCli(treeFile, meta.caFingerprint, workers, ["--log-key", vkey]);
  if (tree.exit !== 0)
    throw new Error(`kakunin-verify --log-key exited ${tree.exit} on the export with tree checkpoints (expected 0)`);
  const treeRate = n / tree.seconds;
  const loop = await shellLoop(file, n, Number(values.sample));

  console.log(`\n${n} entries, ${cores} cores, kakunin-verify --workers ${workers ?? cores}`);
  console.log(
    table(
      ["what", "verifies/s", "vs openssl all cores", "peak RSS MB", "target"],
      [
        [`openssl speed -multi ${cores} rsa2048 (verify only)`, fmt(osslAll), "100%", "-", ""],
        ["openssl speed rsa2048, 1 core", fmt(ossl1), `${fmt((ossl1 / osslAll) * 100)}%`, "-", ""],
        [
          `kakunin-verify log (end to end, tree recomputed; ${cli.stats?.crypto ?? "?"})`,
          fmt(cliRate),
          `${fmt((cliRate / osslAll) * 100)}%`,
          fmt(cli.maxRssMb),
          `≥ 50%, < 256 MB: ${cliRate >= osslAll / 2 && cli.maxRssMb < 256 ? "met" : "NOT met"}`,
        ],
        [
          `kakunin-verify log --log-key (+ ${TREE_CHECKPOINTS} signed tree checkpoints checked)`,
          fmt(treeRate),
          `${fmt((treeRate / osslAll) * 100)}%`,
          fmt(tree.maxRssMb),
          `≥ 50%: ${treeRate >= osslAll / 2 ? "met" : "NOT met"}`,
        ],
        ...(plain
          ? [
              [
                "kakunin-verify log --no-native (node:crypto)",
                fmt(n / plain.seconds),
                `${fmt((n / plain.seconds / osslAll) * 100)}%`,
                fmt(plain.maxRssMb),
                "",
              ],
            ]
          : []),
        [
          `shell loop of openssl dgst -verify (${values.sample} sampled)`,
          fmt(loop, 1),
          `${fmt((loop / osslAll) * 100, 2)}%`,
          "-",
          `${fmt(n / loop / 3600, 1)} h for ${n}`,
        ],
      ],
    ),
  );
  const cpu = (st?: Record<string, number | string>) =>
    st ? `, ${fmt((Number(st.cpuUserMs ?? 0) + Number(st.cpuSystemMs ?? 0)) / 1000, 1)} s CPU` : "";
  console.log(
    `kakunin-verify: ${fmt(cli.seconds, 1)} s wall${cpu(cli.stats)}${plain ? `; --no-native: ${fmt(plain.seconds, 1)} s wall${cpu(plain.stats)}` : ""}`,
  );
}
