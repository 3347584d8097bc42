/**
 * kakunin: the admin CLI for a Kakunin server, built on @kakunin/client (commander parses).
 * Exit codes: 0 ok, 1 the API refused the request, 2 usage error or unreadable local input,
 * 3 authentication/authorization (401/403, no token), 4 not found, 5 conflict (409),
 * 6 server, KMS or network unavailable (5xx, 429, no connection; after retries).
 */
import { Command, CommanderError } from "commander";
import { agentCommands } from "./agent-commands.js";
import { completionCommand } from "./completion.js";
import { logCommands } from "./log-commands.js";
import { EXIT, reportError } from "./output.js";
import { profileCommands } from "./profile-commands.js";

export function program(): Command {
  const p = new Command("kakunin")
    .description("Administer a Kakunin identity authority: issuers, agents, tokens, signing, receipts, exports.")
    .option("--json", "print JSON instead of tables", false)
    .option("--profile <name>", "profile from the config file (default: KAKUNIN_PROFILE or the config's default)")
    .option("--url <url>", "server base URL (overrides the profile; also KAKUNIN_URL)")
    .option("--config <file>", "config file (default: KAKUNIN_CONFIG or ~/.config/kakunin/config.json)")
    .option("--retries <n>", "retries on 429/503, honouring Retry-After", (v) => parseInt(v, 10), 3)
    .exitOverride()
    .showHelpAfterError()
    .addHelpText(
      "after",
      `
The token comes from KAKUNIN_TOKEN or the profile; it is never a flag and never printed, except by
the commands whose job is to mint one (issuers create, tokens create).

Examples:
  kakunin profile add dev --url http://127.0.0.1:8080 < operator-token.txt
  kakunin issuers create "Acme Bank" --save-profile acme
  kakunin --profile acme agents create payments-bot
  echo '{"action":"transfer"}' | kakunin --profile acme sign agt_… --payload-json > receipt.json
  kakunin --profile acme export -o log.ndjson --payloads

Exit codes: 0 ok, 1 API refused the request, 2 usage or local input, 3 auth (401/403, no token),
4 not found, 5 conflict, 6 server/KMS/network unavailable.`,
    );
  profileCommands(p);
  agentCommands(p);
  logCommands(p);
  completionCommand(p);
  return p;
}

export async function main(argv: string[]): Promise<number> {
  const p = program();
  for (const c of allCommands(p)) c.exitOverride();
  try {
    await p.parseAsync(argv, { from: "user" });
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help")
        return EXIT.OK;
      return EXIT.USAGE; // commander already printed the message
    }
    const json = argv.includes("--json");
    return reportError(e, json);
  }
}

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap(allCommands)];
}

process.exitCode = await main(process.argv.slice(2));
