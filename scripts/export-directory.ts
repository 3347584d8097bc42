/**
 * Writes the public directory the portal is built with: site/src/data/directory.json (git-ignored).
 *
 *   tsx scripts/export-directory.ts --api http://127.0.0.1:8080     # GET /v1/public/directory
 *   tsx scripts/export-directory.ts --file directory.json            # a copy obtained another way
 *   then: npx astro build   (KAKUNIN_API_URL=… to let pages refresh statuses and the CRL at load time)
 *
 * The CA fingerprint in this file becomes the portal's pinned trust anchor, so fetch it from an API
 * you control (or pass --expect-fingerprint sha256:… to refuse a directory naming another CA).
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_OUT = join(root, "site/src/data/directory.json");

export interface ExportDirectoryOptions {
  /** Base URL of the Kakunin API. */
  api?: string;
  /** Or a file holding the directory JSON. */
  file?: string;
  /** Output path (default site/src/data/directory.json). */
  out?: string;
  /** Refuse a directory whose CA fingerprint differs ("sha256:hex", separators ignored). */
  expectFingerprint?: string;
}

const normFp = (s: unknown): string =>
  typeof s === "string"
    ? s
        .replace(/^sha-?256:/i, "")
        .replace(/[^0-9a-f]/gi, "")
        .toLowerCase()
    : "";

/** Fetches/reads the directory, checks its shape and writes it; returns the output path and a summary. */
export async function exportDirectory(
  opts: ExportDirectoryOptions,
): Promise<{ out: string; fingerprint: string; agents: number }> {
  if (!opts.api === !opts.file) throw new Error("give exactly one of --api URL or --file PATH");
  let text: string;
  if (opts.api) {
    const url = `${opts.api.replace(/\/+$/, "")}/v1/public/directory`;
    const res = await fetch(url, { headers: { Accept: "application/json" } });
    if (!res.ok) throw new Error(`GET ${url} → HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
    text = await res.text();
  } else {
    text = await readFile(resolve(opts.file!), "utf8");
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error("the directory is not valid JSON");
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error("the directory is not a JSON object");
  const ca = (doc.ca ?? {}) as Record<string, unknown>;
  const fp = normFp(ca.fingerprint ?? ca.fingerprintSha256 ?? doc.caFingerprint);
  const pem = ca.pem ?? ca.certificate ?? ca.certificatePem ?? doc.caCertificate;
  if (fp.length !== 64 || typeof pem !== "string" || !pem.includes("BEGIN CERTIFICATE")) {
    throw new Error("the directory has no CA certificate and SHA-256 fingerprint");
  }
  if (opts.expectFingerprint && normFp(opts.expectFingerprint) !== fp) {
    throw new Error(`the directory's CA fingerprint sha256:${fp} is not the expected ${opts.expectFingerprint}`);
  }
  if (doc.generatedAt === undefined) doc.generatedAt = new Date().toISOString();
  const out = resolve(opts.out ?? DEFAULT_OUT);
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(doc, null, 2) + "\n");
  await rename(tmp, out);
  return { out, fingerprint: `sha256:${fp}`, agents: Array.isArray(doc.agents) ? doc.agents.length : 0 };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({
    options: {
      api: { type: "string" },
      file: { type: "string" },
      out: { type: "string" },
      "expect-fingerprint": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      "Usage: tsx scripts/export-directory.ts (--api URL | --file PATH) [--out PATH] [--expect-fingerprint sha256:HEX]",
    );
    process.exit(0);
  }
  try {
    const r = await exportDirectory({
      api: values.api,
      file: values.file,
      out: values.out,
      expectFingerprint: values["expect-fingerprint"],
    });
    console.log(`Wrote ${r.out}: CA ${r.fingerprint}, ${r.agents} agent(s).`);
  } catch (e) {
    console.error(`export-directory: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
