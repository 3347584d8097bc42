// The regulator portal: a static Astro site whose verification runs in the browser.
// `npx astro build` writes plain files to site/dist (any web server or object store can host them).
//
// Build-time inputs (environment, all optional):
//   KAKUNIN_DIRECTORY_FILE  the directory JSON to pin (default site/src/data/directory.json, written by
//                           scripts/export-directory.ts; without it the empty directory.example.json is used
//                           and the portal says it pins no CA). "none" forces that empty fallback.
//   KAKUNIN_API_URL         when set, pages refresh certificate statuses and the CRL from this API at load
//                           time (never during verification) and say how fresh the data is.
//   KAKUNIN_PORTAL_OUT_DIR  where to write the site (default site/dist).
//   KAKUNIN_PORTAL_BASE     base path when the site is published under a sub-path (default "/").
//   KAKUNIN_PORTAL_POLICY_FILE  a C2SP tlog-policy (log keys, witness keys, quorum) that receipts v2 are
//                           verified against (like kakunin-verify --policy).
//   KAKUNIN_PORTAL_LOG_KEYS     pinned log verifier keys, separated by whitespace (like --log-key).
//   KAKUNIN_PORTAL_TSA_FILE     the pinned TSA trust list, PEM certificates and optional CRLs (like --tsa).
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig } from "astro/config";

const directoryEnv = process.env.KAKUNIN_DIRECTORY_FILE;
const directoryFile = resolve(directoryEnv || "site/src/data/directory.json");
let directory = null;
if (directoryEnv === "none") {
  directory = null;
} else if (existsSync(directoryFile)) {
  directory = JSON.parse(readFileSync(directoryFile, "utf8"));
} else if (process.env.KAKUNIN_DIRECTORY_FILE) {
  throw new Error(`KAKUNIN_DIRECTORY_FILE=${process.env.KAKUNIN_DIRECTORY_FILE} does not exist`);
}

/** A build-time trust file: its text, or null; a named file that is missing fails the build. */
function trustFile(env) {
  const f = process.env[env];
  if (!f) return null;
  if (!existsSync(resolve(f))) throw new Error(`${env}=${f} does not exist`);
  return readFileSync(resolve(f), "utf8");
}
const trust = {
  policy: trustFile("KAKUNIN_PORTAL_POLICY_FILE"),
  logKeys: (process.env.KAKUNIN_PORTAL_LOG_KEYS ?? "").split(/\s+/).filter((k) => k !== ""),
  tsa: trustFile("KAKUNIN_PORTAL_TSA_FILE"),
};

export default defineConfig({
  srcDir: "./site/src",
  publicDir: "./site/public",
  outDir: process.env.KAKUNIN_PORTAL_OUT_DIR || "./site/dist",
  cacheDir: "./site/.astro",
  output: "static",
  base: process.env.KAKUNIN_PORTAL_BASE || "/",
  trailingSlash: "ignore",
  devToolbar: { enabled: false },
  build: { format: "directory", inlineStylesheets: "never" },
  vite: {
    // Web Workers are ES modules: each gets its own bundle (kept free of pkijs).
    worker: { format: "es" },
    build: { assetsInlineLimit: 0, chunkSizeWarningLimit: 1500 },
    define: {
      "import.meta.env.KAKUNIN_API_URL": JSON.stringify(process.env.KAKUNIN_API_URL ?? ""),
      __KAKUNIN_DIRECTORY__: JSON.stringify(directory),
      __KAKUNIN_TRUST__: JSON.stringify(trust),
    },
  },
});
