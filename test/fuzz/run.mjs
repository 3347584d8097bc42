#!/usr/bin/env node
// `npm run fuzz -- --runs N [--seed S]`: the fuzz suite with more cases; prints the seed to replay.
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const runs = opt("--runs", "500");
const seed = opt("--seed", String(Math.floor(Math.random() * 2 ** 31)));
console.log(`fuzz: runs=${runs} seed=${seed}  (replay: npm run fuzz -- --runs ${runs} --seed ${seed})`);
const r = spawnSync("npx", ["vitest", "run", "test/fuzz"], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed, FUZZ_CLI_EVERY: opt("--cli-every", "25") },
});
console.log(
  `fuzz: runs=${runs} seed=${seed} → ${r.status === 0 ? "nothing found" : "FAILED (replay with the seed above)"}`,
);
process.exit(r.status ?? 1);
