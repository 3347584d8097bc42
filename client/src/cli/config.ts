/**
 * Profiles: `{ "default": "dev", "profiles": { "dev": { "url": "…", "token": "…" } } }` in
 * $KAKUNIN_CONFIG, else $XDG_CONFIG_HOME/kakunin/config.json, else ~/.config/kakunin/config.json.
 * Written with mode 0600 (directory 0700); a file others can read is refused, like ssh does.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface Profile {
  url: string;
  token?: string;
}
export interface ConfigFile {
  default?: string;
  profiles: Record<string, Profile>;
}

/** Local input the CLI cannot use (exit 2). */
export class UsageError extends Error {}

export function configPath(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.KAKUNIN_CONFIG) return process.env.KAKUNIN_CONFIG;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "kakunin", "config.json");
}

export function readConfig(path: string): ConfigFile {
  let text: string;
  try {
    const st = statSync(path);
    if (process.platform !== "win32" && (st.mode & 0o077) !== 0) {
      throw new UsageError(
        `${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${path}`,
      );
    }
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { profiles: {} };
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON`);
  }
  const c = parsed as Partial<ConfigFile>;
  if (typeof c !== "object" || c === null || typeof c.profiles !== "object" || c.profiles === null)
    throw new UsageError(`${path}: field "profiles" must be an object`);
  for (const [name, p] of Object.entries(c.profiles)) {
    if (typeof p?.url !== "string") throw new UsageError(`${path}: field "profiles.${name}.url" must be a string`);
    if (p.token !== undefined && typeof p.token !== "string")
      throw new UsageError(`${path}: field "profiles.${name}.token" must be a string`);
  }
  return c as ConfigFile;
}

export function writeConfig(path: string, config: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600); // the umask cannot widen it
  renameSync(tmp, path);
}

export interface Target {
  url: string;
  token: string | undefined;
  profile: string | undefined;
}

/** URL: --url > KAKUNIN_URL > profile. Token: KAKUNIN_TOKEN > profile. Profile: --profile > KAKUNIN_PROFILE > default. */
export function resolveTarget(o: { url?: string; profile?: string; config?: string }): Target {
  const config = readConfig(configPath(o.config));
  const name = o.profile ?? process.env.KAKUNIN_PROFILE ?? config.default;
  const profile = name !== undefined ? config.profiles[name] : undefined;
  if (name !== undefined && !profile && (o.profile !== undefined || process.env.KAKUNIN_PROFILE !== undefined))
    throw new UsageError(`no profile named "${name}" in ${configPath(o.config)}`);
  const url = o.url ?? process.env.KAKUNIN_URL ?? profile?.url;
  if (!url)
    throw new UsageError(
      "no server URL: pass --url, set KAKUNIN_URL, or add a profile (kakunin profile add NAME --url URL)",
    );
  return { url, token: process.env.KAKUNIN_TOKEN || profile?.token, profile: name };
}
