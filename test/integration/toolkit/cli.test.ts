/**
 * The kakunin CLI as a real child process against a real server and local KMS: profiles, every
 * command in --json and table form, receipts and exports that kakunin-verify accepts, errors with
 * codes and exit codes, and no token in any output except where a command mints one.
 */
import { mkdtemp, readFile, stat, writeFile, chmod } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { KAKUNIN_BIN, VERIFY_BIN, runBin, type CliResult } from "./run-cli.js";

let kms: LocalKms;
let server: RunningServer;
let dir: string;
let config: string;
const outputs: { args: string[]; r: CliResult; mints: boolean }[] = [];
const minted: string[] = [];

/** kakunin with the suite's config file; every output is kept for the token scan at the end. */
async function kakunin(
  args: string[],
  opts: { env?: Record<string, string | undefined>; input?: string; mints?: boolean } = {},
): Promise<CliResult> {
  const r = await runBin(KAKUNIN_BIN, ["--config", config, ...args], {
    env: { KAKUNIN_TOKEN: undefined, ...opts.env },
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  outputs.push({ args, r, mints: !!opts.mints });
  return r;
}
const json = (r: CliResult) => JSON.parse(r.stdout);

beforeAll(async () => {
  kms = await startLocalKms();
  server = await startServer({ kmsEndpoint: kms.endpoint });
  dir = await mkdtemp(join(tmpdir(), "kakunin-cli-"));
  config = join(dir, "cfg", "config.json");
});

afterAll(async () => {
  await server?.stop();
  await kms?.stop();
});

describe("kakunin CLI", () => {
  let agentId = "";
  let issuerToken = "";

  it("prints help with every command and the exit codes", async () => {
    const r = await kakunin(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["profile", "issuers", "agents", "tokens", "sign", "receipt", "export", "checkpoint", "completion"])
      expect(r.stdout).toContain(c);
    expect(r.stdout).toMatch(/Exit codes: 0 ok/);
  });

  it("stores a profile with the token from stdin in a 0600 file and never lists the token", async () => {
    const add = await kakunin(["profile", "add", "op", "--url", server.url], { input: server.operatorToken + "\n" });
    expect(add.code, add.stderr).toBe(0);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "cfg"))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(config, "utf8")).profiles.op.token).toBe(server.operatorToken);
    const list = await kakunin(["--json", "profile", "list"]);
    expect(json(list)).toEqual([{ name: "op", url: server.url, token: "set", default: true }]);
  });

  it("creates an issuer into a new profile (token saved, not printed), then agents", async () => {
    const r = await kakunin(["--json", "issuers", "create", "Acme Bank", "--save-profile", "acme"]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({ name: "Acme Bank", savedToProfile: "acme" });
    issuerToken = JSON.parse(await readFile(config, "utf8")).profiles.acme.token;
    expect(issuerToken).toMatch(/^kkn_iss_/);
    minted.push(issuerToken);

    const created = await kakunin(["--profile", "acme", "--json", "agents", "create", "payments-bot"]);
    expect(created.code, created.stderr).toBe(0);
    agentId = json(created).id;
    expect(agentId).toMatch(/^agt_[0-9a-f]{32}$/);
    const table = await kakunin(["--profile", "acme", "agents", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(agentId);
    expect(table.stdout).toMatch(/│|\|/); // a table, not JSON
    const listed = await kakunin(["--profile", "acme", "--json", "agents", "list"]);
    expect(json(listed).map((a: { id: string }) => a.id)).toEqual([agentId]);
    const shown = await kakunin(["--profile", "acme", "--json", "agents", "show", agentId]);
    expect(json(shown)).toMatchObject({ id: agentId, status: "active" });
  });

  it("prints an issuer token only from issuers create, and an agent token from tokens create", async () => {
    const r = await kakunin(["--json", "issuers", "create", "Other Ltd"], {
      env: { KAKUNIN_TOKEN: server.operatorToken },
      mints: true,
    });
    expect(r.code, r.stderr).toBe(0);
    minted.push(json(r).token);
    expect(json(r).token).toMatch(/^kkn_iss_/);
    const t = await kakunin(["--profile", "acme", "--json", "tokens", "create", agentId], { mints: true });
    expect(t.code, t.stderr).toBe(0);
    expect(json(t)).toMatchObject({ agent: agentId, token: expect.stringMatching(/^kkn_agt_/) });
    minted.push(json(t).token);
  });

  it("signs a file and stdin into receipts that kakunin-verify accepts, also through a pipe", async () => {
    await writeFile(join(dir, "ca.pem"), await (await fetch(`${server.url}/v1/public/ca.pem`)).text());
    await writeFile(join(dir, "payload.bin"), Buffer.from([0, 1, 2, 250, 255]));
    const fromFile = await kakunin([
      "--profile",
      "acme",
      "--json",
      "sign",
      agentId,
      join(dir, "payload.bin"),
      "-o",
      join(dir, "r1.json"),
    ]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(json(fromFile)).toMatchObject({ seq: 1, receipt: join(dir, "r1.json") });
    const v1 = await runBin(VERIFY_BIN, [
      "receipt",
      join(dir, "r1.json"),
      "--ca",
      join(dir, "ca.pem"),
      "--payload",
      join(dir, "payload.bin"),
    ]);
    expect(v1.code, v1.stdout + v1.stderr).toBe(0);

    await writeFile(join(dir, "p.json"), '{"amount":"100.00","action":"transfer"}');
    const stdin = await kakunin(
      ["--profile", "acme", "sign", agentId, "--payload-json", "--content-type", "application/json"],
      { input: '{"action":"transfer","amount":"100.00"}' },
    );
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(JSON.parse(stdin.stdout).format).toBe("kakunin-receipt/1");
    await writeFile(join(dir, "r2.json"), stdin.stdout);
    const v2 = await runBin(VERIFY_BIN, [
      "receipt",
      join(dir, "r2.json"),
      "--ca",
      join(dir, "ca.pem"),
      "--payload-json",
      join(dir, "p.json"),
    ]);
    expect(v2.code, v2.stdout + v2.stderr).toBe(0);

    // kakunin sign … | kakunin-verify receipt - (the README's pipe), in a real shell
    const pipe = execFileSync(
      "sh",
      [
        "-c",
        `printf 'hello' | "${process.execPath}" "${KAKUNIN_BIN}" --config "${config}" --profile acme sign ${agentId} | "${process.execPath}" "${VERIFY_BIN}" receipt - --ca "${join(dir, "ca.pem")}" --json`,
      ],
      { encoding: "utf8", env: { ...process.env, KAKUNIN_TOKEN: "" } },
    );
    expect(JSON.parse(pipe).verdict).toBe("PASSED");
  });

  it("rebuilds a verifiable receipt with receipt get, and a tampered one fails", async () => {
    const r = await kakunin(["--profile", "acme", "receipt", "get", "1", "-o", join(dir, "r1b.json")]);
    expect(r.code, r.stderr).toBe(0);
    const v = await runBin(VERIFY_BIN, [
      "receipt",
      join(dir, "r1b.json"),
      "--ca",
      join(dir, "ca.pem"),
      "--payload",
      join(dir, "payload.bin"),
    ]);
    expect(v.code, v.stdout).toBe(0);
    const tampered = JSON.parse(await readFile(join(dir, "r1b.json"), "utf8"));
    tampered.entry.seq = 7;
    await writeFile(join(dir, "r1t.json"), JSON.stringify(tampered));
    const vt = await runBin(VERIFY_BIN, ["receipt", join(dir, "r1t.json"), "--ca", join(dir, "ca.pem")]);
    expect(vt.code).toBe(1);
  });

  it("shows and changes the issuer's alert responses, and resumes an agent's tokens", async () => {
    const issuerId = json(await kakunin(["--profile", "acme", "--json", "agents", "show", agentId])).issuer.id;
    const responses = (...more: string[]) =>
      kakunin(["--profile", "acme", "--json", "issuers", "responses", issuerId, ...more]);
    expect(json(await responses())).toEqual({ suspendTokensOnCritical: false, signingRateLimit: null });
    const set = await responses("--suspend-on-critical", "on", "--rate-limit", "600/50");
    expect(set.code, set.stderr).toBe(0);
    expect(json(set)).toEqual({ suspendTokensOnCritical: true, signingRateLimit: { perMinute: 600, burst: 50 } });
    // One option changes only its own setting.
    expect(json(await responses("--suspend-on-critical", "off"))).toEqual({
      suspendTokensOnCritical: false,
      signingRateLimit: { perMinute: 600, burst: 50 },
    });
    const table = await kakunin(["--profile", "acme", "issuers", "responses", issuerId]);
    expect(table.stdout).toContain("600/min, burst 50");
    const usage = await responses("--rate-limit", "600");
    expect(usage.code).toBe(2);
    const range = await responses("--rate-limit", "0/5");
    expect(range.code).toBe(1);
    expect(range.stderr).toContain("ERR_INVALID_RATE_LIMIT");
    // One signature a minute: the second is refused with a Retry-After far beyond the client's
    // longest wait, so the CLI says when to try again at once instead of retrying early.
    expect((await responses("--rate-limit", "1/1")).code).toBe(0);
    const sign = (json: boolean) =>
      kakunin(["--profile", "acme", ...(json ? ["--json"] : []), "sign", agentId, "--payload-json"], {
        input: '{"n":1}',
      });
    const first = await sign(false);
    expect(first.code, first.stderr).toBe(0);
    const limited = await sign(false);
    expect(limited.code).toBe(6);
    expect(limited.stderr).toMatch(/ERR_RATE_LIMITED: .*\[HTTP 429\] \(try again in \d+ s\)/);
    const limitedJson = JSON.parse((await sign(true)).stderr);
    expect(limitedJson.error).toMatchObject({ code: "ERR_RATE_LIMITED", status: 429 });
    expect(limitedJson.error.retryAfter).toBeGreaterThan(10);
    expect(json(await responses("--rate-limit", "off"))).toEqual({
      suspendTokensOnCritical: false,
      signingRateLimit: null,
    });
    const resumed = await kakunin(["--profile", "acme", "--json", "tokens", "resume", agentId]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(json(resumed)).toEqual({ agent: agentId, resumed: 0, tokenIds: [], alerts: [] });
  });

  it("rotates and revokes, exports with a progress bar, and kakunin-verify passes the export", async () => {
    const rot = await kakunin(["--profile", "acme", "--json", "agents", "rotate", agentId]);
    expect(json(rot).rotation.resumed).toBe(false);
    const rev = await kakunin(["--profile", "acme", "agents", "revoke", agentId, "--reason", "keyCompromise"]);
    expect(rev.code, rev.stderr).toBe(0);
    expect(rev.stdout).toContain("keyCompromise");
    const cp = await kakunin(["--profile", "acme", "--json", "checkpoint"]);
    expect(json(cp).size).toBe(7); // registered, 4 operations (one under the rate limit), rotated, revoked
    const out = join(dir, "log.ndjson");
    const ex = await kakunin(["--profile", "acme", "--json", "export", "-o", out, "--payloads", "--progress"]);
    expect(ex.code, ex.stderr).toBe(0);
    expect(json(ex)).toEqual({ out, entries: 7 });
    expect(ex.stderr).toContain("7/7 entries");
    const v = await runBin(VERIFY_BIN, ["log", out, "--ca", join(dir, "ca.pem"), "--no-progress"]);
    expect(v.code, v.stdout).toBe(0);
  });

  it("reports problems with their code, detail and a documented exit code", async () => {
    const missing = await kakunin(["--profile", "acme", "agents", "show", "agt_00000000000000000000000000000000"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/ERR_AGENT_NOT_FOUND: .*not found.*HTTP 404/);
    const conflict = await kakunin([
      "--profile",
      "acme",
      "--json",
      "agents",
      "revoke",
      agentId,
      "--reason",
      "superseded",
    ]);
    expect(conflict.code).toBe(5);
    expect(JSON.parse(conflict.stderr).error).toMatchObject({ code: "ERR_ALREADY_REVOKED", status: 409 });
    const invalid = await kakunin(["--profile", "acme", "agents", "show", "not-an-id"]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/ERR_VALIDATION: .*\(field id\)/);
    const badToken = await kakunin(["--profile", "acme", "agents", "list"], {
      env: { KAKUNIN_TOKEN: "kkn_iss_not-a-real-token" },
    });
    expect(badToken.code).toBe(3);
    expect(badToken.stderr).toContain("ERR_UNAUTHORIZED");
    const wrongRole = await kakunin(["--profile", "op", "agents", "list"]);
    expect(wrongRole.code).toBe(3);
    const exportRole = await kakunin(["--profile", "op", "export", "-o", join(dir, "never.ndjson")]);
    expect(exportRole.code).toBe(3);
    expect(exportRole.stderr).toContain("ERR_FORBIDDEN");
    await expect(stat(join(dir, "never.ndjson.part"))).rejects.toThrow();
    const down = await kakunin(["--url", "http://127.0.0.1:9", "--retries", "0", "agents", "list"], {
      env: { KAKUNIN_TOKEN: "kkn_iss_x" },
    });
    expect(down.code).toBe(6);
    expect(down.stderr).toMatch(/ERR_NETWORK/);
    const usage = await kakunin(["agents", "revoke", agentId, "--reason", "because"]);
    expect(usage.code).toBe(2);
    const noFile = await kakunin(["--profile", "acme", "sign", agentId, join(dir, "nope.bin")]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain("ENOENT");
    const badJson = await kakunin(["--profile", "acme", "sign", agentId, "--payload-json"], { input: "{oops" });
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/stdin is not valid JSON/);
  });

  it("refuses a config file other users can read", async () => {
    await chmod(config, 0o644);
    const r = await kakunin(["--profile", "acme", "agents", "list"]);
    await chmod(config, 0o600);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/readable by other users .*chmod 600/);
  });

  it("completes commands and subcommands in bash", async () => {
    const script = (await kakunin(["completion", "bash"])).stdout;
    await writeFile(join(dir, "kakunin.bash"), script);
    const complete = (line: string) =>
      execFileSync(
        "bash",
        [
          "-c",
          `source "${join(dir, "kakunin.bash")}"; COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _kakunin; echo "\${COMPREPLY[*]}"`,
        ],
        { encoding: "utf8" },
      ).trim();
    expect(complete("kakunin ag")).toBe("agents");
    expect(complete("kakunin agents r").split(" ").sort()).toEqual(["revoke", "rotate"]);
    expect(complete("kakunin export --pa")).toBe("--payloads");
    const zsh = await kakunin(["completion", "zsh"]);
    expect(zsh.stdout).toMatch(/^#compdef kakunin/);
  });

  it("never prints a token except from the commands that mint one", () => {
    const secrets = [server.operatorToken, ...minted];
    for (const { args, r, mints } of outputs) {
      if (mints) continue;
      for (const s of secrets) {
        expect(r.stdout.includes(s) || r.stderr.includes(s), `token in output of kakunin ${args.join(" ")}`).toBe(
          false,
        );
      }
    }
  });
});
