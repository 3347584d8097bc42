import { describe, expect, it } from "vitest";
import { decodeResults, encodeResults } from "../../../verifier/src/node/compact.js";
import type { LineResult } from "../../../verifier/src/worker-core.js";

const h = (c: string) => c.repeat(64);
function entry(
  seq: number,
  over: Record<string, unknown> = {},
  hashOk = true,
  sigOk: boolean | null = true,
): LineResult {
  return {
    kind: "entry",
    entry: {
      seq,
      time: 1_700_000_000_000 + seq,
      type: "agent.operation",
      issuer: "iss_x",
      agent: `agt_${seq % 3}`,
      signer: { cert: `c${seq % 2}`, key: "arn:k", alg: "RSASSA_PSS_SHA_256" },
      payloadHash: h("a"),
      prevHash: h("b"),
      hash: h(String(seq % 10)),
      sig: "c2ln",
      ...over,
    } as never,
    computedHash: h("f"),
    hashOk,
    sigOk,
  };
}

describe("compact worker results", () => {
  it("round-trip every kind, in order, without sig and computedHash", () => {
    const input: LineResult[] = [
      entry(0),
      entry(1, {}, false, false),
      entry(2, {}, true, null),
      { kind: "malformed", message: "bad", field: "entry.seq" },
      entry(3, { type: "agent.registered", details: { type: "agent.registered", cert: "c0" } }),
      { kind: "payload", seq: 3, hash: h("c") },
      { kind: "other", value: { kind: "checkpoint" } },
      entry(Number.MAX_SAFE_INTEGER, { agent: "é😀" }),
      entry(5, { prevHash: "short" }),
    ];
    const expected = structuredClone(input).map((r) =>
      r.kind === "entry" ? { ...r, computedHash: "", entry: { ...r.entry, sig: "" } } : r,
    );
    const { msg, transfer } = encodeResults(input);
    const cloned = structuredClone(msg, { transfer });
    expect(decodeResults(cloned)).toEqual(expected);
  });
});
