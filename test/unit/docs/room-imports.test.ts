/**
 * The arrows of docs/ARCHITECTURE.md ("Rooms and arrows") hold: no module imports a room it must not
 * (routes → jobs or db, ca → log, log → authority, verifier → server, …). Relative imports only:
 * the rooms are folders of one package. (Cycles and sizes: `node /work/shared/tools/structure.mjs`.)
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** room → rooms it must not import (as in the rooms table of docs/ARCHITECTURE.md). */
const MUST_NOT: [string, string[]][] = [
  ["server/routes/", ["server/jobs/", "server/db/"]],
  ["server/authority/", ["server/routes/", "server/http/", "server/jobs/"]],
  ["server/jobs/", ["server/routes/"]],
  ["server/log/", ["server/routes/", "server/authority/", "server/jobs/"]],
  ["server/ca/", ["server/log/", "server/routes/", "server/authority/", "server/jobs/", "server/http/"]],
  [
    "server/kms/",
    ["server/log/", "server/routes/", "server/authority/", "server/jobs/", "server/http/", "server/db/", "server/ca/"],
  ],
  ["server/db/", ["server/http/", "server/routes/", "server/authority/", "server/log/", "server/jobs/"]],
  ["server/http/", ["server/routes/", "server/authority/", "server/jobs/"]],
  ["server/auth/", ["server/routes/", "server/authority/", "server/jobs/"]],
  ["verifier/src/", ["server/", "site/", "scripts/", "client/"]],
];

/** The repository-relative targets of a module's relative imports and re-exports. */
export function relativeImports(file: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/g))
    if (m[1]!.startsWith(".")) out.push(normalize(join(dirname(file), m[1]!)));
  for (const m of source.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g))
    out.push(normalize(join(dirname(file), m[1]!)));
  return out;
}

export function violations(files: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [file, source] of files)
    for (const [room, banned] of MUST_NOT) {
      if (!file.startsWith(room)) continue;
      for (const target of relativeImports(file, source))
        for (const b of banned)
          if (target.startsWith(b)) out.push(`${file} → ${target} (${room} must not import ${b})`);
    }
  return out;
}

function sources(dir: string, into = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(join(ROOT, dir))) {
    if (name === "node_modules") continue;
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) sources(rel, into);
    else if (/\.(ts|mjs)$/.test(name)) into.set(rel, readFileSync(join(ROOT, rel), "utf8"));
  }
  return into;
}

describe("imports between rooms", () => {
  it("point only the way docs/ARCHITECTURE.md allows", () => {
    const files = sources("verifier/src", sources("server"));
    expect(files.size).toBeGreaterThan(150);
    expect(violations(files)).toEqual([]);
  });

  it("a forbidden import is found, static, re-exported or dynamic; a sibling or package import is not", () => {
    const files = new Map([
      ["server/ca/crl.ts", 'import { x } from "../log/audit-log.js";\nimport { y } from "./bytes.js";'],
      ["server/routes/log.ts", 'export { z } from "../db/views.js";\nimport { createRoute } from "@hono/zod-openapi";'],
      ["server/log/appender.ts", 'const m = await import("../authority/ids.js");'],
      ["server/authority/ids.ts", 'import type { AppDeps } from "../deps.js";'],
    ]);
    expect(violations(files)).toEqual([
      "server/ca/crl.ts → server/log/audit-log.js (server/ca/ must not import server/log/)",
      "server/routes/log.ts → server/db/views.js (server/routes/ must not import server/db/)",
      "server/log/appender.ts → server/authority/ids.js (server/log/ must not import server/authority/)",
    ]);
  });
});
