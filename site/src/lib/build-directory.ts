/**
 * Build-time access to the directory. `scripts/export-directory.ts` writes
 * site/src/data/directory.json (git-ignored); without it the committed, empty
 * directory.example.json keeps `astro build` working.
 */
import { normaliseDirectory, type Directory } from "./directory";

const files = import.meta.glob<{ default: unknown }>("../data/directory*.json", { eager: true });
const real = files["../data/directory.json"];
const example = files["../data/directory.example.json"];

export const directory: Directory = real
  ? normaliseDirectory(real.default, "build")
  : normaliseDirectory(example?.default ?? {}, "example");

/** The API URL the site was built with (enables the load-time refresh), or "". */
export const apiUrl: string = (import.meta.env.KAKUNIN_API_URL as string | undefined)?.replace(/\/+$/, "") ?? "";

/** The data embedded in every page for the client scripts. */
export function clientData(): string {
  return JSON.stringify({ directory, apiUrl, builtAt: new Date().toISOString() }).replace(/</g, "\\u003c");
}
