/** profile add|list|use|remove: the config file of URLs and tokens (mode 0600). */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { configPath, readConfig, UsageError, writeConfig } from "./config.js";
import { globals } from "./context.js";
import { printJson, printTable } from "./output.js";

/** The token for `profile add`: stdin when piped, else KAKUNIN_TOKEN; never a flag (shell history, ps). */
function tokenFromStdinOrEnv(): string | undefined {
  if (!process.stdin.isTTY) {
    const t = readFileSync(0, "utf8").trim();
    if (t) return t;
  }
  return process.env.KAKUNIN_TOKEN || undefined;
}

export function profileCommands(program: Command): void {
  const profile = program
    .command("profile")
    .description("profiles: server URL + token, in the config file (mode 0600)");
  profile
    .command("add")
    .argument("<name>")
    .description("add or replace a profile (server from --url); the token is read from stdin (or KAKUNIN_TOKEN)")
    .option("--default", "make it the default profile")
    .action((name: string, opts: { default?: boolean }, cmd: Command) => {
      const o = { ...opts, url: globals(cmd).url ?? "" };
      if (!o.url) throw new UsageError("profile add needs the server: --url URL");
      try {
        new URL(o.url);
      } catch {
        throw new UsageError(`--url: not a URL: ${o.url}`);
      }
      const path = configPath(globals(cmd).config);
      const config = readConfig(path);
      const token = tokenFromStdinOrEnv();
      config.profiles[name] = { url: o.url, ...(token ? { token } : {}) };
      if (o.default || !config.default) config.default = name;
      writeConfig(path, config);
      if (globals(cmd).json)
        return printJson({ profile: name, url: o.url, token: token ? "set" : "none", config: path });
      process.stdout.write(`profile ${name} saved to ${path} (token ${token ? "set" : "not set"})\n`);
    });
  profile
    .command("list")
    .description("list profiles (tokens are never shown)")
    .action((_o: unknown, cmd: Command) => {
      const config = readConfig(configPath(globals(cmd).config));
      const rows = Object.entries(config.profiles).map(([name, p]) => ({
        name,
        url: p.url,
        token: p.token ? "set" : "none",
        default: config.default === name,
      }));
      if (globals(cmd).json) return printJson(rows);
      printTable(
        ["", "name", "url", "token"],
        rows.map((r) => [r.default ? "*" : "", r.name, r.url, r.token]),
      );
    });
  profile
    .command("use")
    .argument("<name>")
    .description("make a profile the default")
    .action((name: string, _o: unknown, cmd: Command) => {
      const path = configPath(globals(cmd).config);
      const config = readConfig(path);
      if (!config.profiles[name]) throw new UsageError(`no profile named "${name}" in ${path}`);
      config.default = name;
      writeConfig(path, config);
      if (globals(cmd).json) return printJson({ default: name });
      process.stdout.write(`default profile: ${name}\n`);
    });
  profile
    .command("remove")
    .argument("<name>")
    .description("delete a profile")
    .action((name: string, _o: unknown, cmd: Command) => {
      const path = configPath(globals(cmd).config);
      const config = readConfig(path);
      if (!config.profiles[name]) throw new UsageError(`no profile named "${name}" in ${path}`);
      delete config.profiles[name];
      if (config.default === name) delete config.default;
      writeConfig(path, config);
      if (globals(cmd).json) return printJson({ removed: name });
      process.stdout.write(`profile ${name} removed\n`);
    });
}
