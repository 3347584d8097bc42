/** The log-side witness client's pure parts: configuration, the request body, 409 sizes, answer checks, note merging. */
import { beforeAll, describe, expect, it } from "vitest";
import { formatCheckpoint, openNote, parseNote, verifyCosignatures } from "../../../verifier/src/formats/index.js";
import { loadWitnessingConfig, parseWitnessList, WitnessConfigError } from "../../../server/log/witnessing/config.js";
import { mergeCosignatures } from "../../../server/log/witnessing/merge.js";
import { formatAddCheckpointBody, parseTlogSize } from "../../../server/log/witnessing/request.js";
import { refusalDetail, verifyCosignatureResponse } from "../../../server/log/witnessing/response.js";
import { cosignerKey, logKey, type CosignerKey, type LogKey } from "../../helpers/witness-keys.js";

const TEXT = formatCheckpoint({
  origin: "log.example/a",
  size: 9,
  root: new Uint8Array(32).fill(1) as never,
  extensions: [],
});
let log: LogKey;
let w1: CosignerKey;
let w2: CosignerKey;
let note: string;

beforeAll(async () => {
  log = await logKey("log.example/a");
  w1 = await cosignerKey("w1.example/witness");
  w2 = await cosignerKey("w2.example/witness");
  note = await log.signNote(TEXT);
});

async function configError(p: Promise<unknown>): Promise<WitnessConfigError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(WitnessConfigError);
  return e as WitnessConfigError;
}

describe("KAKUNIN_WITNESSES and KAKUNIN_WITNESS_POLICY", () => {
  it("parses the compact list (commas or newlines), strips a trailing '/', and makes the quorum all or k of them", async () => {
    const list = `w1 ${w1.vkey} http://127.0.0.1:7381/ ,\n  w2\t${w2.vkey}   https://w2.example/witness`;
    const ws = await parseWitnessList(list);
    expect(ws.map((w) => [w.name, w.url, w.key.name])).toEqual([
      ["w1", "http://127.0.0.1:7381", "w1.example/witness"],
      ["w2", "https://w2.example/witness", "w2.example/witness"],
    ]);
    const all = await loadWitnessingConfig({ KAKUNIN_WITNESSES: list });
    expect([all.source, all.timeoutMs, all.quorum.kind === "group" && all.quorum.threshold]).toEqual([
      "KAKUNIN_WITNESSES",
      5000,
      2,
    ]);
    const one = await loadWitnessingConfig({
      KAKUNIN_WITNESSES: list,
      KAKUNIN_WITNESS_QUORUM: "1",
      KAKUNIN_WITNESS_TIMEOUT_MS: "1500",
    });
    expect([one.timeoutMs, one.quorum.kind === "group" && one.quorum.threshold]).toEqual([1500, 1]);
    expect(await loadWitnessingConfig({})).toEqual({
      witnesses: [],
      quorum: { kind: "none" },
      timeoutMs: 5000,
      source: "none",
    });
  });

  it("names the entry and field of a bad compact entry", async () => {
    const e1 = await configError(parseWitnessList(`w1 ${w1.vkey} http://a, w2 ${w2.vkey}`));
    expect([e1.entry, e1.field, e1.message]).toEqual([
      2,
      "entry",
      expect.stringMatching(/^KAKUNIN_WITNESSES entry 2: expected "<name> <vkey> <url>", got 2 fields/),
    ]);
    const e2 = await configError(parseWitnessList(`w1 ${log.vkey} http://a`));
    expect([e2.entry, e2.field]).toEqual([1, "vkey"]);
    expect(e2.message).toMatch(/entry 1 \(vkey\).*type 0x04/);
    expect((await configError(parseWitnessList(`w1 ${w1.vkey} ftp://a`))).message).toMatch(
      /entry 1 \(url\).*http or https/,
    );
    expect((await configError(parseWitnessList(`w1 ${w1.vkey} http://a/?x=1`))).field).toBe("url");
    expect((await configError(parseWitnessList(`w1 ${w1.vkey} not-a-url`))).field).toBe("url");
    expect((await configError(parseWitnessList(`w1 ${w1.vkey} http://a\nw1 ${w2.vkey} http://b`))).message).toMatch(
      /entry 2 \(name\).*named twice/,
    );
    const sameKey = (await cosignerKey("other.name", w1.pair)).vkey;
    expect((await configError(parseWitnessList(`w1 ${w1.vkey} http://a\nw2 ${sameKey} http://b`))).message).toMatch(
      /entry 2 \(vkey\).*same public key as witness "w1"/,
    );
    expect(
      (
        await configError(
          loadWitnessingConfig({ KAKUNIN_WITNESSES: `w1 ${w1.vkey} http://a`, KAKUNIN_WITNESS_QUORUM: "2" }),
        )
      ).field,
    ).toBe("KAKUNIN_WITNESS_QUORUM");
    expect((await configError(loadWitnessingConfig({ KAKUNIN_WITNESS_TIMEOUT_MS: "0" }))).field).toBe(
      "KAKUNIN_WITNESS_TIMEOUT_MS",
    );
    expect((await configError(loadWitnessingConfig({ KAKUNIN_WITNESSES: " , " }))).message).toMatch(/names no witness/);
  });

  it("reads a tlog-policy file: witnesses with URLs are submitted to, its quorum is kept; errors name the file and line", async () => {
    const policy = `log ${log.vkey}\nwitness A ${w1.vkey} http://127.0.0.1:1/w/\nwitness B ${w2.vkey}\ngroup g any A B\nquorum g\n`;
    const files: Record<string, string> = {
      "/p": policy,
      "/bad": `witness A ${w1.vkey}\ngroup g 3 A\nquorum g\n`,
      "/nourl": `witness A ${w1.vkey}\nquorum A\n`,
    };
    const read = (p: string) => {
      if (!(p in files)) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
      return new TextEncoder().encode(files[p]!);
    };
    const c = await loadWitnessingConfig({ KAKUNIN_WITNESS_POLICY: "/p" }, read);
    expect([c.source, c.witnesses.map((w) => [w.name, w.url]), c.quorum.kind === "group" && c.quorum.name]).toEqual([
      "KAKUNIN_WITNESS_POLICY",
      [["A", "http://127.0.0.1:1/w"]],
      "g",
    ]);
    const bad = await configError(loadWitnessingConfig({ KAKUNIN_WITNESS_POLICY: "/bad" }, read));
    expect([bad.entry, bad.field, bad.message]).toEqual([
      2,
      "group.threshold",
      expect.stringContaining("KAKUNIN_WITNESS_POLICY /bad: policy line 2 (group.threshold)"),
    ]);
    expect((await configError(loadWitnessingConfig({ KAKUNIN_WITNESS_POLICY: "/nourl" }, read))).message).toMatch(
      /no witness line has a submission URL/,
    );
    expect((await configError(loadWitnessingConfig({ KAKUNIN_WITNESS_POLICY: "/missing" }, read))).message).toMatch(
      /\/missing: ENOENT/,
    );
    expect(
      (await configError(loadWitnessingConfig({ KAKUNIN_WITNESS_POLICY: "/p", KAKUNIN_WITNESSES: "x" }, read))).message,
    ).toMatch(/not both/);
  });
});

describe("add-checkpoint wire format", () => {
  it("formats the request body exactly as the spec's layout", () => {
    const h = new Uint8Array(32).fill(0xfe);
    expect(formatAddCheckpointBody(3, [h, h], note)).toBe(
      `old 3\n${Buffer.from(h).toString("base64")}\n${Buffer.from(h).toString("base64")}\n\n${note}`,
    );
    expect(formatAddCheckpointBody(0, [], note)).toBe(`old 0\n\n${note}`);
    expect(() => formatAddCheckpointBody(1, Array(64).fill(h), note)).toThrow(/63/);
    expect(() => formatAddCheckpointBody(-1, [], note)).toThrow(RangeError);
  });

  it("reads a 409 size only from a well-formed text/x.tlog.size body", () => {
    expect(parseTlogSize("text/x.tlog.size", "42\n")).toBe(42);
    expect(parseTlogSize("text/x.tlog.size; charset=utf-8", "0\n")).toBe(0);
    for (const [type, body] of [
      ["text/plain", "42\n"],
      [null, "42\n"],
      ["text/x.tlog.size", "42"],
      ["text/x.tlog.size", "042\n"],
      ["text/x.tlog.size", "-1\n"],
      ["text/x.tlog.size", "1e3\n"],
      ["text/x.tlog.size", "99999999999999999999\n"],
    ] as const) {
      expect(parseTlogSize(type, body), `${type} ${JSON.stringify(body)}`).toBeUndefined();
    }
  });

  it("accepts a 200 answer only with a verifying, non-zero-timestamp cosignature of the pinned key; other keys' lines are ignored", async () => {
    const line = await w1.cosign(TEXT, 1_700_000_000);
    const got = await verifyCosignatureResponse(TEXT, (await w2.cosign(TEXT)) + line, w1.key);
    expect(got).toEqual({ lines: [line], timestamp: 1_700_000_000 });
    await expect(verifyCosignatureResponse(TEXT, await w2.cosign(TEXT), w1.key)).rejects.toThrow(
      /no cosignature by the pinned key/,
    );
    await expect(
      verifyCosignatureResponse(TEXT, await w1.cosign(TEXT.replace("\n9\n", "\n10\n")), w1.key),
    ).rejects.toThrow(/invalid cosignature/);
    await expect(verifyCosignatureResponse(TEXT, await w1.cosign(TEXT, 0), w1.key)).rejects.toThrow(/timestamp 0/);
    await expect(verifyCosignatureResponse(TEXT, "OK\n", w1.key)).rejects.toThrow(
      /not a sequence of note signature lines/,
    );
    await expect(verifyCosignatureResponse(TEXT, line.trimEnd(), w1.key)).rejects.toThrow(/not a sequence/);
  });

  it("shortens refusals to one line: a problem's code and detail, else the body's start", () => {
    expect(refusalDetail("application/problem+json", JSON.stringify({ code: "ERR_X", detail: "why\nnot" }))).toBe(
      "ERR_X: why not",
    );
    expect(refusalDetail("text/html", `<h1>${"x".repeat(300)}</h1>`)).toHaveLength(201);
  });
});

describe("merging cosignatures into the note", () => {
  it("keeps the log's line first, appends in the order given, drops a key that already signed, and opens with a note verifier", async () => {
    const l1 = await w1.cosign(TEXT, 1_700_000_001);
    const l2 = await w2.cosign(TEXT, 1_700_000_002);
    const m = mergeCosignatures(note, [l2, l1]);
    expect(m.note).toBe(note + l2 + l1);
    expect(m.added).toBe(2);
    const again = mergeCosignatures(m.note, [await w1.cosign(TEXT, 1_700_000_009), l2]);
    expect([again.note, again.added, again.skipped.length]).toEqual([m.note, 0, 2]);
    const parsed = parseNote(m.note);
    await openNote(m.note, [log.key]);
    expect((await verifyCosignatures(parsed.text, parsed.signatures, [w1.key, w2.key])).map((c) => c.name)).toEqual([
      "w2.example/witness",
      "w1.example/witness",
    ]);
    expect(mergeCosignatures(note, []).note).toBe(note);
    expect(() => mergeCosignatures(note, [`${l1}${l2}`])).toThrow(/one signature line/);
  });
});
