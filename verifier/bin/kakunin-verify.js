#!/usr/bin/env node
// Runs the CLI as plain JavaScript. The TypeScript sources are bundled once with esbuild (the CLI
// and, separately, the worker_threads entry) into a cache directory keyed by a hash of the sources;
// later runs import the cached bundle directly. No TypeScript loader at runtime: each worker thread
// loads only the small worker bundle (worker-core + canonicalize), which keeps the peak RSS flat.
// The cache directory is private to the user (created 0700, ownership checked) because its code runs.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";

// The main thread only reads lines and links entries: a small young generation keeps its RSS low.
if (!process.execArgv.some((a) => a.startsWith("--max-semi-space-size"))) setFlagsFromString("--max-semi-space-size=2");

const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
// The bundle runs from a cache directory: tell it (and its workers) where the package, and so the
// optional native addon (native/build/Release), lives.
process.env.KAKUNIN_VERIFY_HOME ??= pkgDir;
const srcDir = join(pkgDir, "src");

function sourceFiles(dir) {
  const out = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts|mjs|js)$/.test(d.name)) out.push(p);
  }
  return out.sort();
}

function loadEsbuild() {
  try {
    return createRequire(import.meta.url)("esbuild");
  } catch {
    return undefined;
  }
}

/** A directory only this user can write, or undefined. */
function privateDir(path) {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    const st = lstatSync(path);
    const uid = process.getuid?.();
    if (
      !st.isDirectory() ||
      (uid !== undefined && st.uid !== uid) ||
      (process.platform !== "win32" && (st.mode & 0o022) !== 0)
    )
      return undefined;
    return path;
  } catch {
    return undefined;
  }
}

function cacheRoot() {
  const uid = process.getuid?.() ?? "user";
  const candidates = [
    process.env.KAKUNIN_VERIFY_CACHE,
    join(pkgDir, "node_modules", ".cache", "kakunin-verify"),
    join(tmpdir(), `kakunin-verify-${uid}`),
  ];
  for (const c of candidates) if (c && privateDir(c)) return c;
  return undefined;
}

/** Bundles src/cli.ts and src/node/worker.ts into `<root>/<hash>/{cli,worker-entry}.mjs`; returns the CLI's path. */
function bundle(esbuild) {
  const h = createHash("sha256");
  h.update(`esbuild ${esbuild.version} node ${process.versions.node}\n`);
  h.update(readFileSync(join(pkgDir, "package.json")));
  for (const f of sourceFiles(srcDir)) h.update(`\n${relative(pkgDir, f)}\n`).update(readFileSync(f));
  const root = cacheRoot();
  if (!root) return undefined;
  const dir = join(root, h.digest("hex").slice(0, 32));
  const cli = join(dir, "cli.mjs");
  if (existsSync(cli)) return cli;
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  esbuild.buildSync({
    absWorkingDir: pkgDir,
    entryPoints: { cli: join(srcDir, "cli.ts"), "worker-entry": join(srcDir, "node", "worker.ts") },
    outdir: tmp,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // CommonJS dependencies (commander, cli-progress) call require() for Node built-ins.
    banner: {
      js: 'import { createRequire as __kkCreateRequire } from "node:module"; const require = __kkCreateRequire(import.meta.url);',
    },
    logLevel: "silent",
  });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another run won the race
  }
  return existsSync(cli) ? cli : undefined;
}

const esbuild = loadEsbuild();
let cli;
try {
  cli = esbuild && process.env.KAKUNIN_VERIFY_NO_BUNDLE !== "1" ? bundle(esbuild) : undefined;
} catch (e) {
  process.stderr.write(
    `kakunin-verify: could not bundle the CLI (${e?.message ?? e}); running the sources through tsx\n`,
  );
}
if (cli) {
  await import(pathToFileURL(cli).href);
} else {
  // Fallback: run the TypeScript sources through tsx (workers then load tsx too: more memory).
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli.ts");
}
