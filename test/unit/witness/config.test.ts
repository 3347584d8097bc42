/** kakunin-witness command line: flags, the logs file, and clear errors. */
import { describe, expect, it } from "vitest";
import { ConfigError, parseArgs, parseLogsFile } from "../../../scripts/witness/config.js";

const base = ["--name", "w.example/1", "--key-file", "k.pem"];

describe("witness config", () => {
  it("parses repeatable --log and two-value --log-prefix", () => {
    const c = parseArgs(
      [
        ...base,
        "--log",
        "a+1+x",
        "--log-prefix",
        "kakunin.example/",
        "b+2+y",
        "--log",
        "c+3+z",
        "--port",
        "0",
        "--prefix",
        "/w/",
      ],
      {},
    );
    expect(c).not.toBe("help");
    if (c === "help") return;
    expect(c.logs).toEqual([{ vkey: "a+1+x" }, { originPrefix: "kakunin.example/", vkey: "b+2+y" }, { vkey: "c+3+z" }]);
    expect(c.port).toBe(0);
    expect(c.prefix).toBe("/w");
  });

  it("reads KMS settings from flags or the environment", () => {
    const c = parseArgs(["--name", "w", "--kms-key-id", "alias/w", "--log", "a+1+x"], {
      KMS_ENDPOINT: "http://127.0.0.1:1",
      AWS_REGION: "eu-central-1",
    });
    if (c === "help") throw new Error("help");
    expect([c.kmsKeyId, c.kmsEndpoint, c.kmsRegion, c.kmsTimeoutMs]).toEqual([
      "alias/w",
      "http://127.0.0.1:1",
      "eu-central-1",
      5000,
    ]);
  });

  it("refuses missing and conflicting settings with messages naming the flag", () => {
    expect(() => parseArgs(["--key-file", "k", "--log", "a"], {})).toThrow(/--name is required/);
    expect(() => parseArgs(["--name", "w", "--log", "a"], {})).toThrow(/--kms-key-id ID \(KMS\) or --key-file/);
    expect(() => parseArgs([...base, "--kms-key-id", "x", "--log", "a"], {})).toThrow(/not both/);
    expect(() => parseArgs(base, {})).toThrow(/no logs to witness/);
    expect(() => parseArgs([...base, "--log"], {})).toThrow(/--log needs a value/);
    expect(() => parseArgs([...base, "--log", "a", "--port", "70000"], {})).toThrow(/--port must be an integer/);
    expect(() => parseArgs([...base, "--log", "a", "--bogus"], {})).toThrow(ConfigError);
    expect(parseArgs(["--help"], {})).toBe("help");
  });

  it("parses a logs file and names the bad line", () => {
    expect(parseLogsFile("f", "# logs\na+1+x\n\nprefix kakunin.example/ b+2+y  # all issuers\n")).toEqual([
      { vkey: "a+1+x" },
      { originPrefix: "kakunin.example/", vkey: "b+2+y" },
    ]);
    expect(() => parseLogsFile("f", "a+1+x\nprefix only-two\n")).toThrow(/^f:2: /);
  });
});
