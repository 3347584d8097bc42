/** What every command needs: the global options and a client for the selected profile. */
import type { Command } from "commander";
import { createKakuninClient, type KakuninClient } from "../client.js";
import { resolveTarget, UsageError } from "./config.js";

export interface GlobalOptions {
  json: boolean;
  url?: string;
  profile?: string;
  config?: string;
  retries: number;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function clientFor(cmd: Command, opts: { tokenRequired?: boolean } = {}): KakuninClient {
  const g = globals(cmd);
  const target = resolveTarget(g);
  if (opts.tokenRequired !== false && !target.token)
    throw new UsageError(
      "no token: set KAKUNIN_TOKEN or add one to the profile (kakunin profile add NAME --url URL, token on stdin)",
    );
  return createKakuninClient({
    baseUrl: target.url,
    ...(target.token ? { token: target.token } : {}),
    retry: {
      retries: g.retries,
      onRetry: ({ attempt, status, delayMs }) =>
        process.stderr.write(`kakunin: HTTP ${status}, retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s\n`),
    },
  });
}
