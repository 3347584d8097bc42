/** loadServerConfig: loadConfig plus the witnesses and TSAs, with their parsers' typed errors. */
import { describe, expect, it } from "vitest";
import { loadServerConfig } from "../../../server/config.js";
import { WitnessConfigError } from "../../../server/log/witnessing/config.js";
import { TimestampingConfigError } from "../../../server/log/timestamping/config.js";
import { cosignerKey } from "../../helpers/witness-keys.js";

describe("loadServerConfig", () => {
  it("without the variables: no witness, no TSA", async () => {
    const c = await loadServerConfig({});
    expect(c.witnessing).toMatchObject({ witnesses: [], source: "none" });
    expect(c.timestamping).toMatchObject({ urls: [] });
    expect(c.timestamping?.trust).toBeUndefined();
  });

  it("reads KAKUNIN_WITNESSES and its quorum", async () => {
    const [a, b] = await Promise.all([cosignerKey("wa.example"), cosignerKey("wb.example")]);
    const c = await loadServerConfig({
      KAKUNIN_WITNESSES: `a ${a.vkey} http://127.0.0.1:7380, b ${b.vkey} https://wb.example/witness/`,
      KAKUNIN_WITNESS_QUORUM: "1",
      KAKUNIN_WITNESS_TIMEOUT_MS: "1500",
    });
    expect(c.witnessing?.witnesses.map((w) => [w.name, w.url])).toEqual([
      ["a", "http://127.0.0.1:7380"],
      ["b", "https://wb.example/witness"],
    ]);
    expect(c.witnessing).toMatchObject({ timeoutMs: 1500, quorum: { kind: "group", threshold: 1 } });
  });

  it("a bad setting is a typed error naming the variable", async () => {
    await expect(loadServerConfig({ KAKUNIN_WITNESSES: "a not-a-vkey http://x" })).rejects.toThrow(WitnessConfigError);
    await expect(loadServerConfig({ KAKUNIN_WITNESSES: "a not-a-vkey http://x" })).rejects.toThrow(
      /KAKUNIN_WITNESSES entry 1 \(vkey\)/,
    );
    await expect(loadServerConfig({ KAKUNIN_TSA_URLS: "http://tsa.example/" })).rejects.toThrow(
      TimestampingConfigError,
    );
    await expect(loadServerConfig({ KAKUNIN_TSA_URLS: "http://tsa.example/" })).rejects.toThrow(
      /KAKUNIN_TSA_TRUST_FILE/,
    );
  });
});
