// The regulator portal: a static Astro site whose verification runs in the browser.
// `npx astro build` writes plain files to site/dist (any web server or object store can host them).
//
// Build-time inputs (environment):
//   KAKUNIN_API_URL     optional. When set, pages refresh the directory and CRL from this API at load
//                       time (never during verification) and say how fresh the data is.
//   KAKUNIN_PORTAL_BASE optional base path when the site is published under a sub-path (default "/").
import { defineConfig } from "astro/config";

export default defineConfig({
  srcDir: "./site/src",
  publicDir: "./site/public",
  outDir: "./site/dist",
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
    },
  },
});
