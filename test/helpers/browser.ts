/**
 * Chromium for the browser (e2e) suites. Where Debian's Chromium is not installed, those suites are
 * skipped *by name and loudly* (a warning with the install hint), as the PostgreSQL suites are
 * (test/helpers/postgres.ts); `KAKUNIN_REQUIRE_BROWSER=1` (set by `.ci/run`) makes it a failure.
 */
import { accessSync, constants } from "node:fs";

/** The browser Playwright launches (Debian's package by default). */
export const CHROMIUM_PATH = process.env.KAKUNIN_CHROMIUM ?? "/usr/bin/chromium";

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the browser suite `suite` should run. Throws when a browser is required
 * (`KAKUNIN_REQUIRE_BROWSER=1`) but absent; otherwise warns, naming the suite, and returns false.
 */
export function shouldRunBrowser(suite: string): boolean {
  if (executable(CHROMIUM_PATH)) return true;
  const hint = `install it with \`apt-get install -y chromium\` (or point KAKUNIN_CHROMIUM at a Chromium binary)`;
  if (process.env.KAKUNIN_REQUIRE_BROWSER === "1") {
    throw new Error(`KAKUNIN_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM_PATH} (suite: ${suite}); ${hint}`);
  }
  console.warn(
    `\n⚠ SKIPPED [browser] ${suite}: no Chromium at ${CHROMIUM_PATH}; ${hint} (set KAKUNIN_REQUIRE_BROWSER=1 to fail instead)\n`,
  );
  return false;
}
