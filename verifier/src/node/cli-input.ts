/**
 * The CLI's inputs: files (and standard input, once per run) read as bytes or strict UTF-8, CRLs
 * from --crl and --online, the certificates of an export's preamble; every failure an InputError
 * (exit 2) naming the file.
 */
import { readFileSync } from "node:fs";
import { startsWithBom, strictUtf8Decoder } from "../parse/strict-json.js";
import { fetchCrls } from "./online-crl.js";

/** Usage or unreadable input: exit 2 with a message naming the file (and line/field). */
export class InputError extends Error {}

let stdinTakenBy: string | undefined;

/** A file's bytes; `-` is standard input (once per run: `kakunin sign … | kakunin-verify receipt -`). */
export function readFile(path: string, what: string): Buffer {
  if (path === "-") {
    if (stdinTakenBy)
      throw new InputError(`cannot read ${what} from standard input: it is already the ${stdinTakenBy}`);
    stdinTakenBy = what;
  }
  try {
    return readFileSync(path === "-" ? 0 : path);
  } catch (e) {
    throw new InputError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** A text file as strict UTF-8 (invalid sequences are an error, never U+FFFD); a BOM only at byte 0. */
export function readText(path: string, what: string): string {
  const bytes = readFile(path, what);
  try {
    return strictUtf8Decoder().decode(startsWithBom(bytes) ? bytes.subarray(3) : bytes);
  } catch {
    throw new InputError(`${what} ${path} is not valid UTF-8`);
  }
}

/** CRL files given with --crl, labelled with their path. */
export function crlFiles(files: string[] | undefined): { pem: string; source: string }[] {
  return (files ?? []).map((f) => ({ pem: readText(f, "CRL"), source: `--crl ${f}` }));
}

/** --online: fetch the CRLs the certificates point to; say so on stderr when a fetch fails. */
export async function onlineCrls(
  online: boolean | undefined,
  certPems: string[],
): Promise<{ pem: string; source: string }[]> {
  if (!online) return [];
  const { crls, notes } = await fetchCrls(certPems);
  for (const n of notes) process.stderr.write(`kakunin-verify: ${n}\n`);
  return crls as { pem: string; source: string }[];
}

/** Certificate PEMs in an export's preamble (the lines before the first entry), for --online. */
export function exportCertificates(file: string): string[] {
  const head = readFile(file, "export")
    .subarray(0, 8 << 20)
    .toString("utf8")
    .split("\n");
  const out: string[] = [];
  for (const l of head) {
    try {
      const v = JSON.parse(l) as { kind?: string; pem?: unknown };
      if (v.kind === "entry") break;
      if (v.kind === "certificate" && typeof v.pem === "string") out.push(v.pem);
    } catch {
      /* not a preamble line */
    }
  }
  return out;
}
