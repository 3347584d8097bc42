/**
 * Docs cannot drift from the tree: every repository path a document cites in backticks exists.
 *
 * A cited path is a backticked token that starts with a top-level folder of the repository
 * (`server/…`, `verifier/…`, `test/…`), resolved from the root; in a README below the root, a
 * relative file name (`appender.ts`, `storage/log-store.ts`) is resolved from that README's folder
 * or below it. Elsewhere a short name (`routes/`, `errors.ts` in a table of rooms) is prose, not
 * checked: cite the full path.
 * A path that does not exist yet must say so explicitly: the marker ` (planned)` right after the
 * closing backtick — and a planned path that exists fails too, so the marker goes when the file lands.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const TOP = ["server", "verifier", "client", "site", "scripts", "test", "docs", ".github"];
const ROOT_FILES = new Set(["README.md", "package.json", "tsconfig.json", ".prettierrc.json", "vitest.config.ts"]);
const FILE_NAME = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*\/?$/;
const EXTENSION = /\.(ts|mjs|js|json|md|astro|sql|sh|ndjson|yml|yaml)$/;
export const PLANNED = " (planned)";

/** server/**\/README.md, verifier/README.md and the two top-level documents. */
function documents(): string[] {
  const readmes: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(ROOT, dir))) {
      if (name === "node_modules") continue;
      const rel = join(dir, name);
      if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
      else if (name === "README.md") readmes.push(rel);
    }
  };
  walk("server");
  return ["docs/ARCHITECTURE.md", "README.md", "verifier/README.md", ...readmes.sort()];
}

interface Citation {
  doc: string;
  line: number;
  token: string;
  /** Repository-relative path it names. */
  path: string;
  planned: boolean;
}

/** The backticked repository paths of one document (fenced code blocks skipped: they are examples). */
export function citations(doc: string, text: string): Citation[] {
  const out: Citation[] = [];
  const base = dirname(doc);
  let fenced = false;
  text.split("\n").forEach((lineText, i) => {
    if (lineText.trimStart().startsWith("```")) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    for (const m of lineText.matchAll(/`([^`\n]+)`/g)) {
      const token = m[1]!;
      if (!FILE_NAME.test(token)) continue;
      const first = token.split("/")[0]!;
      let path: string;
      if (TOP.includes(first) && token.includes("/")) path = token;
      else if (base === "." && ROOT_FILES.has(token)) path = token;
      // A relative folder (`routes/`, `alias/kakunin/`) is too often not a repository path to check.
      else if (base !== "." && doc.endsWith("README.md") && EXTENSION.test(token)) path = join(base, token);
      else continue;
      const planned = lineText.slice(m.index! + m[0].length).startsWith(PLANNED);
      out.push({ doc, line: i + 1, token, path: path.replace(/\/$/, ""), planned });
    }
  });
  return out;
}

const filesCache = new Map<string, string[]>();
/** Every file below `dir` (repository-relative), build output and dependencies left out. */
function filesBelow(dir: string): string[] {
  let files = filesCache.get(dir);
  if (files) return files;
  files = [];
  const walk = (d: string) => {
    for (const name of readdirSync(join(ROOT, d))) {
      if (name === "node_modules" || name === "dist" || name === "build" || name.startsWith(".")) continue;
      const rel = join(d, name);
      if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
      else files.push(rel);
    }
  };
  walk(dir);
  filesCache.set(dir, files);
  return files;
}

/**
 * Whether the cited path exists. A README's relative file name may also sit deeper in its folder
 * (verifier/README.md: `feeder.ts` is src/export/feeder.ts) or in a sibling room
 * (server/authority/README.md: `db/lease.ts`), so it is looked up below the README's package.
 */
function exists(c: Citation): boolean {
  if (existsSync(join(ROOT, c.path))) return true;
  if (c.path === c.token) return false;
  const pkg = c.doc.split("/")[0]!;
  return filesBelow(pkg).some((f) => f.endsWith(`/${c.token}`));
}

describe("paths cited in the documentation", () => {
  const all = documents().flatMap((doc) => citations(doc, readFileSync(join(ROOT, doc), "utf8")));

  it("finds citations in every document it reads (the extractor works)", () => {
    for (const doc of documents())
      expect(
        all.some((c) => c.doc === doc),
        doc,
      ).toBe(true);
    expect(all.length).toBeGreaterThan(100);
  });

  it("all exist, except those marked (planned)", () => {
    const missing = all.filter((c) => !c.planned && !exists(c)).map((c) => `${c.doc}:${c.line} \`${c.token}\``);
    expect(missing).toEqual([]);
  });

  it("a path marked (planned) does not exist yet (drop the marker when it lands)", () => {
    const landed = all.filter((c) => c.planned && exists(c)).map((c) => `${c.doc}:${c.line} \`${c.token}\``);
    expect(landed).toEqual([]);
  });

  it("the extractor resolves root and relative paths, skips URLs, formats and code blocks, and sees the marker", () => {
    const text = [
      "`server/log/appender.ts` and `appender.ts`, `kakunin-log/1`, `/v1/public/crl`, `@kakunin/verifier/formats`",
      "`server/jobs/publish-tiles.ts` (planned) and `npm run bench`",
      "```",
      "`server/nowhere.ts`",
      "```",
    ].join("\n");
    expect(citations("server/log/README.md", text).map((c) => [c.path, c.planned])).toEqual([
      ["server/log/appender.ts", false],
      ["server/log/appender.ts", false],
      ["server/jobs/publish-tiles.ts", true],
    ]);
    expect(citations("docs/ARCHITECTURE.md", "`appender.ts` `README.md`")).toEqual([]);
  });
});
