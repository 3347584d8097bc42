/**
 * Build-time access to the directory. astro.config.mjs reads KAKUNIN_DIRECTORY_FILE (default
 * site/src/data/directory.json, written by scripts/export-directory.ts, git-ignored) into
 * __KAKUNIN_DIRECTORY__; without it the committed, empty directory.example.json keeps the build working.
 */
import example from "../data/directory.example.json";
import { normaliseDirectory, type Directory } from "./directory";

declare const __KAKUNIN_DIRECTORY__: unknown;
const pinnedDoc: unknown = typeof __KAKUNIN_DIRECTORY__ === "undefined" ? null : __KAKUNIN_DIRECTORY__;

export const directory: Directory = pinnedDoc
  ? normaliseDirectory(pinnedDoc, "build")
  : normaliseDirectory(example, "example");

declare const __KAKUNIN_TRUST__: unknown;

/** Log v2 trust pinned at build time (astro.config.mjs: KAKUNIN_PORTAL_POLICY_FILE, …_LOG_KEYS, …_TSA_FILE). */
export interface BuildTrust {
  policy: string | null;
  logKeys: string[];
  tsa: string | null;
}
export const buildTrust: BuildTrust =
  typeof __KAKUNIN_TRUST__ === "object" && __KAKUNIN_TRUST__
    ? (__KAKUNIN_TRUST__ as BuildTrust)
    : { policy: null, logKeys: [], tsa: null };

/** The API URL the site was built with (enables the load-time refresh), or "". */
export const apiUrl: string = ((import.meta.env.KAKUNIN_API_URL as string | undefined) ?? "").replace(/\/+$/, "");

/** The data embedded in every page for the client scripts. */
export function clientData(): string {
  return JSON.stringify({ directory, apiUrl, trust: buildTrust, builtAt: new Date().toISOString() }).replace(
    /</g,
    "\\u003c",
  );
}
