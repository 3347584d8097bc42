/** C2SP tlog-policy parsing: the spec's example, its rules, and errors that name the line and field. */
import { describe, expect, it } from "vitest";
import { parsePolicy, PolicyError, policyLogKeys, type QuorumRule } from "../../../verifier/src/formats/index.js";
import { cosignerKey, ed25519Pair, logKey } from "../../helpers/witness-keys.js";

// c2sp.org/tlog-policy, "Example policy", verbatim (its keys are elided as <vkey>).
const SPEC_EXAMPLE = `log <vkey>

witness X1 <vkey>
witness X2 <vkey>
witness X3 <vkey>
group X-witnesses 2 X1 X2 X3

witness Y1 <vkey>
witness Y2 <vkey>
witness Y3 <vkey>
group Y-witnesses any Y1 Y2 Y3

group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
`;

async function keys() {
  const log = await logKey("example.com/behind-the-sofa");
  const ws = await Promise.all(
    ["X1", "X2", "X3", "Y1", "Y2", "Y3"].map((n) => cosignerKey(`${n.toLowerCase()}.witness.example`)),
  );
  return { log, ws };
}

/** The spec's example with real keys substituted for each <vkey>, in order; nothing else changes. */
async function specExample() {
  const k = await keys();
  const vkeys = [k.log.vkey, ...k.ws.map((w) => w.vkey)];
  let i = 0;
  return { text: SPEC_EXAMPLE.replace(/<vkey>/g, () => vkeys[i++]!), ...k };
}

async function expectError(text: string | Uint8Array, line: number, field: string, message?: RegExp) {
  const err = await parsePolicy(text).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected an error for:\n${String(text)}`).toBeInstanceOf(PolicyError);
  const e = err as PolicyError;
  expect(e.code).toBe("ERR_POLICY");
  expect([e.line, e.field]).toEqual([line, field]);
  expect(e.message).toContain(`policy line ${line} (${field})`);
  if (message) expect(e.message).toMatch(message);
}

describe("tlog-policy", () => {
  it("parses the spec's example: one log, six witnesses, X-witnesses 2 of 3, Y-witnesses any, quorum all of both", async () => {
    const { text, log, ws } = await specExample();
    const p = await parsePolicy(text);
    expect(p.logs.map((l) => [l.vkey, l.line])).toEqual([[log.vkey, 1]]);
    expect(p.witnesses.map((w) => [w.name, w.vkey, w.line])).toEqual(
      ws.map((w, i) => [["X1", "X2", "X3", "Y1", "Y2", "Y3"][i], w.vkey, i < 3 ? 3 + i : 5 + i]),
    );
    expect(p.groups.map((g) => [g.name, g.threshold, g.members.length, g.line])).toEqual([
      ["X-witnesses", 2, 3, 6],
      ["Y-witnesses", 1, 3, 11],
      ["X-and-Y", 2, 2, 13],
    ]);
    const w = (name: string): QuorumRule => ({ kind: "witness", name });
    expect(p.quorum).toEqual({
      kind: "group",
      name: "X-and-Y",
      threshold: 2,
      members: [
        { kind: "group", name: "X-witnesses", threshold: 2, members: [w("X1"), w("X2"), w("X3")] },
        { kind: "group", name: "Y-witnesses", threshold: 1, members: [w("Y1"), w("Y2"), w("Y3")] },
      ],
    });
    expect(policyLogKeys(p, "example.com/behind-the-sofa").map((k) => k.keyId)).toEqual([log.key.keyId]);
    expect(policyLogKeys(p, "example.com/other")).toEqual([]);
    // As octets too, and the same with the spec's elided keys left in is an error naming line 1.
    expect((await parsePolicy(new TextEncoder().encode(text))).witnesses).toHaveLength(6);
    await expectError(SPEC_EXAMPLE, 1, "log.vkey", /name\+id\+key/);
  });

  it("accepts URLs, tabs, leading/trailing whitespace, comments, blank lines, quorum none, a single-witness quorum, and a missing final newline", async () => {
    const { log, ws } = await keys();
    const p = await parsePolicy(
      `# a comment\n \t# indented comment\n\n\tlog ${log.vkey}\thttps://log.example/  \nwitness  w1 ${ws[0]!.vkey} https://w1.example/witness\nquorum none`,
    );
    expect(p.logs[0]!.url).toBe("https://log.example/");
    expect(p.witnesses[0]).toMatchObject({ name: "w1", url: "https://w1.example/witness", line: 5 });
    expect(p.quorum).toEqual({ kind: "none" });
    expect((await parsePolicy(`witness w1 ${ws[0]!.vkey}\nquorum w1\n`)).quorum).toEqual({
      kind: "witness",
      name: "w1",
    });
    // No logs is allowed (the log may be known from context); quorum none needs no witnesses.
    expect(await parsePolicy("quorum none\n")).toEqual({
      logs: [],
      witnesses: [],
      groups: [],
      quorum: { kind: "none" },
    });
    // Non-UTF-8 octets are fine in comments.
    const bytes = new Uint8Array([
      ...new TextEncoder().encode("# caf"),
      0xe9,
      0x0a,
      ...new TextEncoder().encode("quorum none\n"),
    ]);
    expect((await parsePolicy(bytes)).quorum).toEqual({ kind: "none" });
  });

  it("names are opaque and case-sensitive; a name may be any signed-note-free token, even a keyword", async () => {
    const { ws } = await keys();
    const p = await parsePolicy(
      `witness K ${ws[0]!.vkey}\nwitness \u212a ${ws[1]!.vkey}\ngroup all any K \u212a\nquorum all\n`,
    );
    expect(p.witnesses.map((w) => w.name)).toEqual(["K", "\u212a"]);
    expect(p.groups[0]).toMatchObject({ name: "all", threshold: 1 });
  });

  it("refuses bad input with an error naming the line and the field", async () => {
    const { log, ws } = await keys();
    const [a, b, c] = ws.map((w) => w.vkey) as [string, string, string];
    const sameKeyOtherName = (await cosignerKey("another.name", ws[0]!.pair)).vkey;
    const logSameKey = (await logKey("example.com/second", log.pair)).vkey;
    await expectError(`frobnicate x\nquorum none\n`, 1, "keyword", /unknown keyword "frobnicate"/);
    await expectError(`log ${log.vkey}\n`, 1, "quorum", /no quorum line/);
    await expectError(`quorum none\nquorum none\n`, 2, "quorum", /second quorum line \(the first is line 1\)/);
    await expectError(`quorum\n`, 1, "quorum");
    await expectError(`quorum w1\n`, 1, "quorum", /not a witness or group defined on an earlier line/);
    await expectError(
      `group g any w1\nwitness w1 ${a}\nquorum g\n`,
      1,
      "group.member",
      /"w1" is not a witness or group defined/,
    );
    await expectError(`log ${log.vkey} https://x https://y\nquorum none\n`, 1, "log");
    await expectError(`log\nquorum none\n`, 1, "log");
    await expectError(`log ${a}\nquorum none\n`, 1, "log.vkey", /type 0x01/);
    await expectError(`\nlog ${log.vkey}\nlog ${logSameKey}\nquorum none\n`, 3, "log.vkey", /duplicate of line 2/);
    await expectError(`witness w1 ${log.vkey}\nquorum none\n`, 1, "witness.vkey", /type 0x04/);
    await expectError(`witness w1\nquorum none\n`, 1, "witness");
    await expectError(`witness w1 ${a} https://x extra\nquorum none\n`, 1, "witness");
    await expectError(
      `witness w1 ${a}\nwitness w2 ${sameKeyOtherName}\nquorum none\n`,
      2,
      "witness.vkey",
      /same public key as witness "w1" on line 1/,
    );
    await expectError(
      `witness w1 ${a}\nwitness w1 ${b}\nquorum none\n`,
      2,
      "witness.name",
      /already defined on line 1/,
    );
    await expectError(`witness none ${a}\nquorum none\n`, 1, "witness.name", /predefined/);
    await expectError(`witness w1 ${a}\ngroup w1 any w1\nquorum none\n`, 2, "group.name", /already defined/);
    await expectError(`witness w1 ${a}\ngroup g any\nquorum none\n`, 2, "group");
    await expectError(
      `witness w1 ${a}\ngroup g any none\nquorum none\n`,
      2,
      "group.member",
      /cannot be a group member/,
    );
    await expectError(
      `witness w1 ${a}\nwitness w2 ${b}\ngroup g 3 w1 w2\nquorum g\n`,
      3,
      "group.threshold",
      /1 <= k <= 2, got "3"/,
    );
    await expectError(`witness w1 ${a}\ngroup g 0 w1\nquorum g\n`, 2, "group.threshold");
    await expectError(`witness w1 ${a}\ngroup g -1 w1\nquorum g\n`, 2, "group.threshold");
    await expectError(`witness w1 ${a}\ngroup g most w1\nquorum g\n`, 2, "group.threshold");
    await expectError(
      `witness w1 ${a}\ngroup g all w1 w1\nquorum g\n`,
      2,
      "group.member",
      /already listed as a group member on line 2/,
    );
    await expectError(
      `witness w1 ${a}\nwitness w2 ${b}\nwitness w3 ${c}\ngroup g1 any w1 w2\ngroup g2 any w2 w3\nquorum g2\n`,
      5,
      "group.member",
      /"w2" is already listed as a group member on line 4/,
    );
    await expectError(`quorum none\r\n`, 1, "line", /carriage return/);
    await expectError(`# ok\nquorum\u0001 none\n`, 2, "line", /control character 0x01 at column 7/);
    await expectError(`quorum none\x7f\n`, 1, "line", /0x7f/);
    await expectError(
      new Uint8Array([
        ...new TextEncoder().encode("witness caf"),
        0xe9,
        ...new TextEncoder().encode(` ${a}\nquorum none\n`),
      ]),
      1,
      "line",
      /UTF-8/,
    );
    // An ML-DSA-44 (type 0x06) witness key is not supported: an error, not a witness that can never cosign.
    const mldsa = `w+12345678+${Buffer.concat([Buffer.from([6]), Buffer.alloc(1312)]).toString("base64")}`;
    await expectError(`witness w1 ${mldsa}\nquorum none\n`, 1, "witness.vkey", /type 0x04/);
  });

  it("caps the number of entries", async () => {
    const lines: string[] = [];
    for (let i = 0; i < 257; i++) lines.push(`witness w${i} ${(await cosignerKey(`w${i}`, await ed25519Pair())).vkey}`);
    await expectError(`${lines.join("\n")}\nquorum none\n`, 257, "witness", /more than 256/);
  });
});
