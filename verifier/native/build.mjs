// Builds the optional native addon (kakunin_verify.c) with node-gyp at `npm install`. Optional:
// without a C compiler, Python or Node's headers the build fails, this says so in one line, and
// kakunin-verify uses node:crypto instead (slower, same results). Never fails the install.
// Offline-safe: node-gyp is pointed at the running Node's own headers when they are installed
// (npm sets npm_config_nodedir for us where configured); otherwise node-gyp may try to fetch them.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
if (process.env.KAKUNIN_VERIFY_NATIVE === "off") process.exit(0);

const gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  console.warn(
    "@kakunin/verifier: node-gyp not found; the optional native addon is not built (node:crypto will be used)",
  );
  process.exit(0);
}
const args = [gyp, "rebuild", "--directory", here];
// Node's own headers (include/node, with OpenSSL's) next to the binary: no download needed.
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h")))
  args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
if (r.status === 0 && existsSync(join(here, "build", "Release", "kakunin_verify.node"))) {
  console.log("@kakunin/verifier: native addon built (OpenSSL RSA verification for kakunin-verify)");
} else {
  const why = `${r.stderr ?? ""}`.split("\n").find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
  console.warn(
    `@kakunin/verifier: the optional native addon was not built (${why.trim()}); kakunin-verify will use node:crypto`,
  );
}
