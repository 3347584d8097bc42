/**
 * Issue 13 class 2 — strict input (RFC 8259 + RFC 7493 I-JSON), identical in the library and the
 * CLI: duplicate member names anywhere → ERR_MALFORMED naming line and member; invalid UTF-8 is an
 * error, never U+FFFD; a BOM only at byte 0; nesting depth capped before parsing (no worker dies).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyExportBytes, verifyReceipt, type Report } from "../../../verifier/src/index.js";
import { MAX_JSON_DEPTH, parseStrictJson } from "../../../verifier/src/parse/strict-json.js";
import { cliSandbox, EXIT } from "./fixtures/cli.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import * as t from "./tamper.js";
import { ZERO_HASH } from "../../../verifier/src/formats/hash.js";

let s: Scenario;
const box = cliSandbox("kakunin-strict-");
beforeAll(async () => {
  s = await scenario();
}, 120_000);
const trust = () => ({ caFingerprint: s.ca.fingerprint });
const enc = new TextEncoder();

/** Inserts `,"<name>":<json>` right after the first occurrence of `"<name>":<value>` within `after`. */
function duplicateMember(line: string, anchor: string, name: string, value: string): string {
  const i = line.indexOf(anchor);
  if (i < 0) throw new Error(`no ${anchor}`);
  return `${line.slice(0, i)}"${name}":${value},${line.slice(i)}`;
}

async function lib(lines: string[]) {
  return verifyExportBytes([enc.encode(lines.join("\n") + "\n")], { trust: trust() });
}
function cli(bytes: Uint8Array | string, r: Report) {
  const c = box.cli("log", box.file(bytes), "--ca-fingerprint", s.ca.fingerprint, "--json", "--workers", "1");
  expect(c.status).toBe(EXIT[r.verdict]);
  expect(c.json?.verdict).toBe(r.verdict);
  return c;
}

describe("parseStrictJson", () => {
  it("rejects duplicates at any depth, naming the member; accepts equal names in different objects", () => {
    expect(() => parseStrictJson('{"a":1,"a":1}')).toThrow(
      expect.objectContaining({ code: "ERR_MALFORMED", field: "a" }),
    );
    expect(() => parseStrictJson('{"x":[{"b":{"c":1,"c":2}}]}')).toThrow(
      expect.objectContaining({ field: "x[0].b.c" }),
    );
    expect(() => parseStrictJson('{"\\u0061":1,"a":2}')).toThrow(expect.objectContaining({ field: "a" }));
    expect(parseStrictJson('{"a":{"a":1},"b":{"a":":"}}')).toEqual({ a: { a: 1 }, b: { a: ":" } });
    expect(parseStrictJson('{"s":"a\\"b:c\\\\","t":[1,{"u":2}]}')).toEqual({ s: 'a"b:c\\', t: [1, { u: 2 }] });
  });
  it("caps depth before parsing", () => {
    expect(() => parseStrictJson("[".repeat(MAX_JSON_DEPTH + 1) + "]".repeat(MAX_JSON_DEPTH + 1))).toThrow(
      expect.objectContaining({ code: "ERR_MALFORMED" }),
    );
    expect(parseStrictJson("[".repeat(MAX_JSON_DEPTH) + "]".repeat(MAX_JSON_DEPTH))).toBeTruthy();
  });
});

describe("export: duplicate member names", () => {
  const cases: [string, (lines: string[]) => string[], number, string][] = [
    [
      "entry member",
      (l) => {
        const i = t.entryIndex(l, 5);
        l[i] = duplicateMember(l[i]!, '"seq":', "seq", "5");
        return l;
      },
      5,
      "entry.seq",
    ],
    [
      "signer member",
      (l) => {
        const i = t.entryIndex(l, 5);
        l[i] = duplicateMember(l[i]!, '"cert":', "cert", `"${s.a1.serial}"`);
        return l;
      },
      5,
      "entry.signer.cert",
    ],
    [
      "line kind",
      (l) => {
        const i = t.entryIndex(l, 5);
        l[i] = duplicateMember(l[i]!, '"kind":', "kind", '"payload"');
        return l;
      },
      5,
      "kind",
    ],
    [
      "header member",
      (l) => {
        l[0] = duplicateMember(l[0]!, '"issuer":', "issuer", '"iss_evil"');
        return l;
      },
      -1,
      "issuer",
    ],
    [
      "checkpoint member",
      (l) => {
        const i = t.kindIndex(l, "checkpoint");
        l[i] = duplicateMember(l[i]!, '"size":', "size", "3");
        return l;
      },
      -2,
      "checkpoint.size",
    ],
  ];
  for (const [name, mutate, seq, field] of cases) {
    it(`${name}: ERR_MALFORMED naming line and member (library, CLI)`, async () => {
      const lines = mutate(t.serverFormat([...s.lines]));
      const line = seq >= 0 ? t.entryIndex(s.lines, seq) + 1 : seq === -1 ? 1 : t.kindIndex(s.lines, "checkpoint") + 1;
      const r = await lib(lines);
      expect(r.verdict).toBe("FAILED");
      expect(r.errors).toContainEqual(
        expect.objectContaining({
          code: "ERR_MALFORMED",
          line,
          field,
          message: expect.stringContaining("duplicate member"),
        }),
      );
      const strings = await verifyExport(lines, { trust: trust() });
      expect(strings.errors).toContainEqual(expect.objectContaining({ code: "ERR_MALFORMED", line, field }));
      if (seq === -1) {
        // A header that is not one: the input cannot be read (exit 2, README "Exit codes").
        expect(r.unreadable).toBe(true);
        const c = box.cli("log", box.file(lines.join("\n") + "\n"), "--ca-fingerprint", s.ca.fingerprint);
        expect(c.status).toBe(2);
        expect(c.stderr).toContain(`:1 field ${field}`);
      } else expect(cli(lines.join("\n") + "\n", r).stderr).toContain(`:${line} field ${field}`);
    });
  }
  it("payload line member", async () => {
    const lines = await s.chain.exportLines(s.certs, s.crl, { payloads: true });
    const i = lines.findIndex((l) => l.startsWith('{"kind":"payload","seq":5'));
    lines[i] = duplicateMember(lines[i]!, '"seq":', "seq", "5");
    const r = await lib(lines);
    expect(r.errors).toContainEqual(expect.objectContaining({ code: "ERR_MALFORMED", line: i + 1, field: "seq" }));
    cli(lines.join("\n") + "\n", r);
  });
});

describe("UTF-8, BOM and depth", () => {
  it("invalid UTF-8 in an entry line is ERR_MALFORMED at that line, never U+FFFD (library, CLI)", async () => {
    const text = t.serverFormat(s.lines).join("\n") + "\n";
    const bytes = enc.encode(text);
    const i = t.entryIndex(s.lines, 5);
    const at = text.split("\n").slice(0, i).join("\n").length + 1 + text.split("\n")[i]!.indexOf('"agent":"') + 9;
    const bad = new Uint8Array([...bytes.slice(0, at), 0xc3, 0x28, ...bytes.slice(at)]);
    const r = await verifyExportBytes([bad], { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_MALFORMED", line: i + 1, message: expect.stringContaining("UTF-8") }),
    );
    // One byte per chunk: same answer.
    const r1 = await verifyExportBytes(
      (function* () {
        for (let k = 0; k < bad.length; k += 997) yield bad.slice(k, k + 997);
      })(),
      { trust: trust() },
    );
    expect(r1.errors).toEqual(r.errors);
    const c = cli(bad, r);
    expect(c.stderr).toContain(`:${i + 1} field (line)`);
  });
  it("invalid UTF-8 in a preamble line (certificate) is malformed too", async () => {
    const text = s.lines.join("\n") + "\n";
    const at = text.indexOf('"role":"agent"');
    const bytes = enc.encode(text);
    const bad = new Uint8Array([...bytes.slice(0, at), 0xff, ...bytes.slice(at)]);
    const r = await verifyExportBytes([bad], { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors).toContainEqual(
      expect.objectContaining({ code: "ERR_MALFORMED", message: expect.stringContaining("UTF-8") }),
    );
    cli(bad, r);
  });
  it("a BOM at byte 0 is accepted; a BOM at the start of any other line (preamble or body), or a second one, is malformed", async () => {
    const lines = t.serverFormat(s.lines);
    const ok = await verifyExportBytes([enc.encode("\uFEFF" + lines.join("\n") + "\n")], { trust: trust() });
    expect(ok.verdict).toBe("PASSED");
    cli("\uFEFF" + lines.join("\n") + "\n", ok);
    expect((await verifyExport(["\uFEFF" + lines[0]!, ...lines.slice(1)], { trust: trust() })).verdict).toBe("PASSED");
    for (const idx of [1, t.kindIndex(lines, "crl"), t.entryIndex(lines, 5), t.kindIndex(lines, "checkpoint")]) {
      const m = [...lines];
      m[idx] = "\uFEFF" + m[idx]!;
      const r = await verifyExportBytes([enc.encode(m.join("\n") + "\n")], { trust: trust() });
      expect(r.verdict, `line ${idx + 1}`).toBe("FAILED");
      expect(r.errors).toContainEqual(expect.objectContaining({ code: "ERR_MALFORMED", line: idx + 1 }));
      expect((await verifyExport(m, { trust: trust() })).errors).toContainEqual(
        expect.objectContaining({ code: "ERR_MALFORMED", line: idx + 1 }),
      );
      cli(m.join("\n") + "\n", r);
    }
    const twice = await verifyExportBytes([enc.encode("\uFEFF\uFEFF" + lines.join("\n") + "\n")], { trust: trust() });
    expect(twice.verdict).toBe("FAILED");
    expect(twice.unreadable).toBe(true);
  });
  it("a 120k-deep line is a verdict (ERR_MALFORMED at its line), not a dead worker", async () => {
    const deep = '{"kind":"entry","entry":' + "[".repeat(120_000) + "]".repeat(120_000) + "}";
    const lines = t.insertLine(t.serverFormat(s.lines), t.entryIndex(s.lines, 5), deep);
    const r = await lib(lines);
    expect(r.errors).toContainEqual(
      expect.objectContaining({
        code: "ERR_MALFORMED",
        line: t.entryIndex(s.lines, 5) + 1,
        message: expect.stringContaining("deeper"),
      }),
    );
    const c = cli(lines.join("\n") + "\n", r);
    expect(c.status).toBe(1);
    expect(c.stderr).not.toContain("unexpected error");
  });
});

describe("receipt and --payload-json", () => {
  it("duplicate members in a receipt are ERR_MALFORMED naming the member (library, CLI)", async () => {
    const text = JSON.stringify(await s.chain.receipt(5, { crl: s.crl }, s.signerOf));
    const dup = duplicateMember(text, '"payloadHash":', "payloadHash", `"${ZERO_HASH}"`);
    const r = await verifyReceipt(dup, { trust: trust() });
    expect(r.verdict).toBe("FAILED");
    expect(r.errors[0]).toMatchObject({ code: "ERR_MALFORMED", field: "entry.payloadHash" });
    const c = box.cli("receipt", box.file(dup), "--ca-fingerprint", s.ca.fingerprint);
    expect(c.status).toBe(2); // unreadable as a receipt, like any non-JSON receipt
    expect(c.stderr).toContain("field entry.payloadHash");
  });
  it("a receipt: BOM only at byte 0; invalid UTF-8 is an error", async () => {
    const text = JSON.stringify(await s.chain.receipt(5, { crl: s.crl }, s.signerOf));
    expect((await verifyReceipt("\uFEFF" + text, { trust: trust() })).verdict).toBe("PASSED");
    expect(box.cli("receipt", box.file("\uFEFF" + text), "--ca-fingerprint", s.ca.fingerprint).status).toBe(0);
    expect((await verifyReceipt(text.replace('"entry":', '"entry":\uFEFF'), { trust: trust() })).verdict).toBe(
      "FAILED",
    );
    const bytes = enc.encode(text);
    const at = text.indexOf('"agent":"') + 9;
    const bad = new Uint8Array([...bytes.slice(0, at), 0xc3, 0x28, ...bytes.slice(at)]);
    const c = box.cli("receipt", box.file(bad), "--ca-fingerprint", s.ca.fingerprint);
    expect(c.status).toBe(2);
    expect(c.stderr).toContain("not valid UTF-8");
  });
  it("--payload-json with a duplicate member is refused, naming it", async () => {
    const rc = box.file(JSON.stringify(await s.chain.receipt(5, { crl: s.crl }, s.signerOf)));
    const c = box.cli(
      "receipt",
      rc,
      "--ca-fingerprint",
      s.ca.fingerprint,
      "--payload-json",
      box.file('{"op":"transfer","n":5,"n":5}'),
    );
    expect(c.status).toBe(2);
    expect(c.stderr).toContain("field n");
    expect(c.stderr).toContain("duplicate member");
  });
});
