/** Output: JSON with --json, tables otherwise; errors on stderr with the problem's code and detail. */
import Table from "cli-table3";
import { KakuninApiError } from "../errors.js";
import { UsageError } from "./config.js";

/** Exit codes (documented in the CLI's --help and the client README). */
export const EXIT = { OK: 0, API: 1, USAGE: 2, AUTH: 3, NOT_FOUND: 4, CONFLICT: 5, UNAVAILABLE: 6 } as const;

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

export function printTable(head: string[], rows: (string | number | null | undefined)[][]): void {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? "—" : String(c))));
  process.stdout.write(t.toString() + "\n");
}

export function printFields(fields: [string, string | number | boolean | null | undefined][]): void {
  const t = new Table({ style: { head: [], border: [] } });
  for (const [k, v] of fields) t.push({ [k]: v === null || v === undefined ? "—" : String(v) });
  process.stdout.write(t.toString() + "\n");
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) return EXIT.USAGE;
  if (!(e instanceof KakuninApiError)) return EXIT.API;
  if (e.status === 0 || e.status >= 500 || e.status === 429) return EXIT.UNAVAILABLE;
  if (e.status === 401 || e.status === 403) return EXIT.AUTH;
  if (e.status === 404) return EXIT.NOT_FOUND;
  if (e.status === 409) return EXIT.CONFLICT;
  return EXIT.API;
}

/** Prints `e` to stderr (JSON with --json) and returns the exit code. Never prints a token. */
export function reportError(e: unknown, json: boolean): number {
  const code = exitCodeFor(e);
  if (e instanceof KakuninApiError) {
    if (json)
      process.stderr.write(
        JSON.stringify({
          error: {
            code: e.code,
            status: e.status,
            detail: e.detail,
            ...(e.field ? { field: e.field } : {}),
            ...(e.retryAfter !== undefined ? { retryAfter: e.retryAfter } : {}),
          },
        }) + "\n",
      );
    else
      process.stderr.write(
        `kakunin: ${e.code}: ${e.detail}${e.field ? ` (field ${e.field})` : ""}${e.status ? ` [HTTP ${e.status}]` : ""}` +
          `${e.retryAfter !== undefined ? ` (try again in ${e.retryAfter} s)` : ""}\n`,
      );
  } else {
    const msg = e instanceof Error ? e.message : String(e);
    if (json)
      process.stderr.write(
        JSON.stringify({ error: { code: e instanceof UsageError ? "ERR_USAGE" : "ERR_CLI", detail: msg } }) + "\n",
      );
    else process.stderr.write(`kakunin: ${msg}\n`);
  }
  return code;
}
