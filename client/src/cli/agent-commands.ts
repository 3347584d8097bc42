/** issuers create|responses, agents create|list|show|rotate|revoke, tokens create|resume. */
import { Option, type Command } from "commander";
import type { Agent, ResponseSettings, RevocationReason } from "../client.js";
import { configPath, readConfig, resolveTarget, UsageError, writeConfig } from "./config.js";
import { clientFor, globals } from "./context.js";
import { printFields, printJson, printTable } from "./output.js";

/** The API's revocation reasons (RFC 5280 CRLReason names), for `--reason` choices and help. */
const REASONS = [
  "unspecified",
  "keyCompromise",
  "cACompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "privilegeWithdrawn",
  "aACompromise",
] as const satisfies readonly RevocationReason[];
// The generated OpenAPI types keep this list honest: a reason the API adds fails to compile here.
const everyReasonListed: [Exclude<RevocationReason, (typeof REASONS)[number]>] extends [never] ? true : never = true;
void everyReasonListed;

function showAgent(a: Agent): void {
  printFields([
    ["id", a.id],
    ["name", a.name],
    ["issuer", `${a.issuer.name} (${a.issuer.id})`],
    ["status", a.status],
    ["created", a.createdAt],
    ["active certificate", a.activeCertificate],
    ["key", a.keyArn],
  ]);
  printTable(
    ["serial", "status", "not after", "key state", "revoked", "reason"],
    a.certificates.map((c) => [c.serial, c.status, c.notAfter, c.key.state, c.revokedAt, c.revocationReason]),
  );
}

/** Saves a newly minted token into a profile (same URL as the current target) instead of printing it. */
function saveToken(cmd: Command, profile: string, token: string): void {
  const g = globals(cmd);
  const path = configPath(g.config);
  const config = readConfig(path);
  config.profiles[profile] = { url: resolveTarget(g).url, token };
  writeConfig(path, config);
}

/** `--rate-limit 120/20` (per minute / burst) or `off`. */
function parseRateLimit(v: string): ResponseSettings["signingRateLimit"] {
  if (v === "off") return null;
  const m = /^(\d{1,9})\/(\d{1,9})$/.exec(v);
  if (!m) throw new UsageError(`--rate-limit: expected <per minute>/<burst> (e.g. 120/20) or off, got ${v}`);
  return { perMinute: Number(m[1]), burst: Number(m[2]) };
}

function showResponses(r: ResponseSettings): void {
  const l = r.signingRateLimit;
  printFields([
    ["suspend tokens on critical", r.suspendTokensOnCritical ? "on" : "off"],
    ["signing-rate limit", l ? `${l.perMinute}/min, burst ${l.burst} (per agent)` : "none"],
  ]);
}

export function agentCommands(program: Command): void {
  const issuers = program.command("issuers").description("issuers (operator token; responses: the issuer's too)");
  issuers
    .command("create")
    .argument("<name>", "issuer name (becomes O= in its agents' certificates)")
    .description("create an issuer and print its token (shown once)")
    .option("--save-profile <profile>", "store the new token in this profile instead of printing it")
    .action(async (name: string, o: { saveProfile?: string }, cmd: Command) => {
      const r = await clientFor(cmd).createIssuer(name);
      if (o.saveProfile) saveToken(cmd, o.saveProfile, r.token);
      const shown = o.saveProfile ? { id: r.id, name: r.name, savedToProfile: o.saveProfile } : r;
      if (globals(cmd).json) return printJson(shown);
      printFields(Object.entries(shown));
      if (!o.saveProfile) process.stderr.write("The token is shown once; only its hash is stored.\n");
    });

  issuers
    .command("responses")
    .argument("<id>", "issuer id (iss_…)")
    .description("show, or change, the issuer's responses to key-usage alerts")
    .addOption(
      new Option("--suspend-on-critical <on|off>", "a critical alert suspends the agent's tokens").choices([
        "on",
        "off",
      ]),
    )
    .option("--rate-limit <perMinute/burst|off>", "each agent's signing-rate limit, e.g. 120/20, or off")
    .action(async (id: string, o: { suspendOnCritical?: "on" | "off"; rateLimit?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      let r = await client.issuerResponses(id);
      if (o.suspendOnCritical !== undefined || o.rateLimit !== undefined)
        r = await client.setIssuerResponses(id, {
          suspendTokensOnCritical:
            o.suspendOnCritical !== undefined ? o.suspendOnCritical === "on" : r.suspendTokensOnCritical,
          signingRateLimit: o.rateLimit !== undefined ? parseRateLimit(o.rateLimit) : r.signingRateLimit,
        });
      if (globals(cmd).json) return printJson(r);
      showResponses(r);
    });

  const agents = program.command("agents").description("the issuer's agents (issuer token)");
  agents
    .command("create")
    .argument("<name>", "agent name")
    .description("register an agent: new KMS key and certificate")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const r = await clientFor(cmd).createAgent(name);
      if (globals(cmd).json) return printJson(r);
      printFields([
        ["id", r.id],
        ["name", r.name],
        ["key", r.keyArn],
        ["certificate", r.certificate.serial],
        ["not after", r.certificate.notAfter],
      ]);
    });
  agents
    .command("list")
    .description("list agents")
    .option("--expiring <days>", "only agents whose certificate expires within e.g. 30d")
    .action(async (o: { expiring?: string }, cmd: Command) => {
      const list = await clientFor(cmd).listAgents(o.expiring ? { expiring: o.expiring } : {});
      if (globals(cmd).json) return printJson(list);
      const active = (a: Agent) => a.certificates.find((c) => c.serial === a.activeCertificate);
      printTable(
        ["id", "name", "status", "certificate", "not after"],
        list.map((a) => [a.id, a.name, a.status, a.activeCertificate, active(a)?.notAfter]),
      );
    });
  agents
    .command("show")
    .argument("<id>", "agent id (agt_…)")
    .description("one agent with its certificate and key history")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const a = await clientFor(cmd).getAgent(id);
      if (globals(cmd).json) return printJson(a);
      showAgent(a);
    });
  agents
    .command("rotate")
    .argument("<id>", "agent id")
    .description("new key and certificate; the old ones superseded and disabled")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await clientFor(cmd).rotateAgent(id);
      if (globals(cmd).json) return printJson(r);
      printFields([
        ["rotation", r.rotation.id],
        ["old certificate", r.rotation.oldSerial],
        ["new certificate", r.rotation.newSerial],
        ["new key", r.rotation.newKeyArn],
        ["resumed", r.rotation.resumed],
      ]);
    });
  agents
    .command("revoke")
    .argument("<id>", "agent id")
    .description("revoke the certificate, disable the key, publish a CRL")
    .addOption(new Option("--reason <reason>", "RFC 5280 reason").choices(REASONS).makeOptionMandatory())
    .action(async (id: string, o: { reason: (typeof REASONS)[number] }, cmd: Command) => {
      const r = await clientFor(cmd).revokeAgent(id, o.reason);
      if (globals(cmd).json) return printJson(r);
      printFields([
        ["certificate", r.revocation.serial],
        ["reason", r.revocation.reason],
        ["revoked at", r.revocation.revokedAt],
        ["CRL number", r.revocation.crlNumber],
        ["resumed", r.revocation.resumed],
      ]);
    });

  const tokens = program.command("tokens").description("agent-scoped tokens (issuer token)");
  tokens
    .command("create")
    .argument("<agent>", "agent id")
    .description("mint a token that may only sign for this agent (shown once)")
    .option("--save-profile <profile>", "store the new token in this profile instead of printing it")
    .action(async (agent: string, o: { saveProfile?: string }, cmd: Command) => {
      const r = await clientFor(cmd).createAgentToken(agent);
      if (o.saveProfile) saveToken(cmd, o.saveProfile, r.token);
      const shown = o.saveProfile ? { agent: r.agent, savedToProfile: o.saveProfile } : r;
      if (globals(cmd).json) return printJson(shown);
      printFields(Object.entries(shown));
    });
  tokens
    .command("resume")
    .argument("<agent>", "agent id")
    .description("lift the suspension a critical alert put on the agent's tokens")
    .action(async (agent: string, _o: unknown, cmd: Command) => {
      const r = await clientFor(cmd).resumeAgentTokens(agent);
      if (globals(cmd).json) return printJson(r);
      printFields([
        ["agent", r.agent],
        ["resumed", r.resumed],
        ["tokens", r.tokenIds.join(", ")],
        ["suspended by", r.alerts.join(", ")],
      ]);
    });
}
