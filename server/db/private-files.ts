/**
 * Files that hold payloads, token hashes or the witness are private to the service's user: folders
 * 0700, files 0600 (like the local KMS store, scripts/kms/key-store.ts). Created that way; existing
 * ones the process owns are tightened (a database created 0644 by an older version).
 */
import fs from "node:fs";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

function ownedByUs(st: fs.Stats): boolean {
  return typeof process.getuid !== "function" || st.uid === process.getuid();
}

/** mkdir -p with 0700 for what it creates; `dir` itself is tightened to 0700 if we own it. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = fs.statSync(dir);
  if (ownedByUs(st) && (st.mode & 0o077) !== 0) fs.chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Create `file` empty with 0600 if absent; tighten it to 0600 if it exists and we own it. */
export function ensurePrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, "a", PRIVATE_FILE_MODE));
  tightenIfPresent(file);
}

/** chmod 0600 if `file` exists, we own it and it is readable by others. */
export function tightenIfPresent(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return;
  }
  if (ownedByUs(st) && (st.mode & 0o077) !== 0) fs.chmodSync(file, PRIVATE_FILE_MODE);
}
