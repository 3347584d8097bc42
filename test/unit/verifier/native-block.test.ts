/**
 * The native block path (native/kakunin_block.c via node/native-block.ts) gives, line by line,
 * exactly what the JavaScript block path gives: on the scenario's export and on entry lines bent
 * at every edge of what the native path takes (dates, digits, strings, escapes, encodings, base64
 * padding, signer keys, string-table and subtree limits), in one block and cut into several.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseCertificatePem } from "../../../verifier/src/x509/certificate.js";
import { jsBlocks, nativeBlocks, nativeBlocksOf } from "./fixtures/block-paths.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import * as t from "./tamper.js";

let s: Scenario;
let keys: Map<string, Uint8Array>;
let lines: string[];
let op: string; // a server-format agent.operation line
beforeAll(async () => {
  s = await scenario();
  keys = new Map(
    await Promise.all(
      s.certs.map(async (c) => [c.serial, (await parseCertificatePem(c.pem)).spki] as [string, Uint8Array]),
    ),
  );
  lines = t.serverFormat(s.lines);
  op = lines[t.entryIndex(lines, 5)]!;
}, 120_000);

const enc = new TextEncoder();
const bytes = (ls: string[], eol = "\n") => enc.encode(ls.join(eol) + eol);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

/** Both paths over the same blocks agree; the native path's results and how many entries it took itself. */
async function agree(keyTable: Map<string, Uint8Array>, blocks: Uint8Array[]) {
  const js = await jsBlocks(keyTable, blocks);
  const { results, taken } = await nativeBlocksOf(keyTable, blocks);
  expect(results).toEqual(js);
  return Object.assign(results, { taken });
}

/** `op` with `from` replaced by `to` (once). */
const bend = (from: string | RegExp, to: string) => {
  const l = op.replace(from, to);
  if (l === op) throw new Error(`nothing to replace: ${String(from)}`);
  return l;
};

describe.skipIf(!nativeBlocks)("native block path", () => {
  it("agrees on the scenario's export, as built and in server format, whole and cut at every line", async () => {
    for (const ls of [s.lines, lines]) {
      await agree(keys, [bytes(ls)]);
      for (let cut = 1; cut < ls.length; cut++) await agree(keys, [bytes(ls.slice(0, cut)), bytes(ls.slice(cut))]);
    }
    const r = await agree(keys, [bytes(lines)]);
    expect(r.filter((x) => (x as { sigOk?: boolean; hashOk?: boolean }).sigOk === true).length).toBe(10);
    expect(r.taken).toBe(6); // the six operations; lifecycle entries take the general path
  });

  it("agrees on entry lines at every edge of what it takes", async () => {
    const time = /"time":"[^"]*"/;
    const sig = /"sig":"([^"]*)"/.exec(op)![1]!;
    const variants = [
      op,
      ...[
        "2026-02-30T00:00:00.000Z",
        "2024-02-29T12:00:00.000Z",
        "2026-04-31T00:00:00.000Z",
        "2026-01-01T24:00:00.000Z",
        "2026-01-01T23:60:00.000Z",
        "2026-01-01T23:59:60.000Z",
        "2026-00-01T00:00:00.000Z",
        "2026-13-01T00:00:00.000Z",
        "2026-01-00T00:00:00.000Z",
        "2026-01-32T00:00:00.000Z",
        "0000-01-01T00:00:00.000Z",
        "1969-12-31T23:59:59.999Z",
        "9999-12-31T23:59:59.999Z",
        "2026-01-01T00:00:00.000z",
        "2026-01-01 00:00:00.000Z",
        "2026-01-01T00:00:00.00Z",
      ].map((d) => op.replace(time, `"time":"${d}"`)),
      ...["0", "01", "123456789012345", "1234567890123456", "-1", "1e3", "1.0", ""].map((n) =>
        op.replace(/"seq":\d+/, `"seq":${n}`),
      ),
      ...["", "a", "é", "\u007f", "\\u0041", "\\\\", "x".repeat(256), "x".repeat(257), "\u2028", "😀", "\t"].map((a) =>
        op.replace(/"agent":"[^"]*"/, `"agent":"${a}"`),
      ),
      ...["", "k".repeat(300), "\u0080", "\\n"].map((k) => op.replace(/"key":"[^"]*"/, `"key":"${k}"`)),
      // Just within and just over MAX_LINE_LENGTH (1 MiB): the second is ERR_MALFORMED on both paths.
      ...[0, 1].map((over) => {
        const key = /"key":"([^"]*)"/.exec(op)![1]!;
        const l = op.replace(/"key":"[^"]*"/, `"key":"${"k".repeat((1 << 20) - op.length + key.length + over)}"`);
        expect(l.length).toBe((1 << 20) + over);
        return l;
      }),
      ...["RSASSA_PSS_SHA_256x", "RSASSA_PKCS1_V1_5_SHA_256", ""].map((a) =>
        op.replace(/"alg":"[^"]*"/, `"alg":"${a}"`),
      ),
      ...["0a", "F".repeat(32), "a".repeat(64), "a".repeat(65), ""].map((c) =>
        op.replace(/"cert":"[^"]*"/, `"cert":"${c}"`),
      ),
      ...[
        "agent.registered",
        "key.rotated",
        "certificate.revoked",
        "key.anomaly",
        "agent.operationx",
        "a",
        "A",
        `a${"b".repeat(63)}`,
        `a${"b".repeat(64)}`,
        "a-b_c.d9",
        "9a",
      ].map((ty) => op.replace(/"type":"[^"]*"/, `"type":"${ty}"`)),
      bend(/"issuer":/, '"details":{"contentType":"application/json"},"issuer":'),
      bend(/"issuer":/, '"details":{"contentType":""},"issuer":'),
      bend(/"issuer":/, '"details":{"other":"x"},"issuer":'),
      bend(/"issuer":/, '"details":{"contentType":1},"issuer":'),
      bend(/"hash":"([0-9a-f]*)"/, '"hash":"' + "A".repeat(64) + '"'),
      bend(/"hash":"([0-9a-f]*)"/, '"hash":"' + "0".repeat(64) + '"'),
      bend(/"payloadHash":"([0-9a-f]*)"/, '"payloadHash":"' + "0".repeat(63) + '"'),
      bend(/"v":1/, '"v":2'),
      bend(/"v":1/, '"v":1.0'),
      bend(
        sig,
        sig.replace(/.=$/, (m) => (m[0] === "A" ? "B=" : "A=")),
      ), // non-canonical or altered last digit
      bend(sig, sig.slice(0, -4)),
      bend(sig, sig.slice(0, -1)),
      bend(sig, ""),
      bend(sig, `${sig}"x`),
      bend(sig, "QUFB".repeat(500)),
      bend(sig, sig.replace(/=+$/, "").padEnd(sig.length, "A")),
      `${op} `,
      ` ${op}`,
      `${op}}`,
      op.slice(0, -1),
      `${op}\r`,
      "",
      "   ",
      "\t",
      "{}",
      "not json",
      `\ufeff${op}`,
      lines[0]!,
      lines[lines.length - 1]!,
    ];
    expect((await agree(keys, [bytes(variants)])).taken).toBeGreaterThan(20);
    expect((await agree(keys, [bytes(variants, "\r\n")])).taken).toBe(0);
    // Invalid UTF-8 in one line: only that line is malformed.
    const bad = concat(bytes([op]), new Uint8Array([0x7b, 0xff, 0x7d, 10]), bytes([op]));
    const r = (await agree(keys, [bad])) as { kind: string }[];
    expect(r.map((x) => x.kind)).toEqual(["entry", "malformed", "entry"]);
    // A block whose last line has no "\n".
    await agree(keys, [enc.encode(`${op}\n${op}`)]);
  });

  it("agrees with unknown, unusable and no keys", async () => {
    for (const k of [new Map(), new Map([...keys].map(([serial]) => [serial, new Uint8Array([1, 2, 3])]))])
      await agree(k, [bytes(lines)]);
  });

  it("agrees past its string table's and columns' batch limits and over long subtree runs", async () => {
    // 1,500 contiguous entries (subtrees up to height 10), each with new strings (over 1,024 per scan).
    const many = Array.from({ length: 1500 }, (_, i) =>
      op
        .replace(/"seq":\d+/, `"seq":${i}`)
        .replace(/"agent":"[^"]*"/, `"agent":"agt_${i}"`)
        .replace(/"key":"[^"]*"/, `"key":"k${i}"`),
    );
    const r = await agree(keys, [bytes(many)]);
    expect(r.taken).toBe(1500);
    expect(Math.max(...r.map((x) => (x as { height: number }).height))).toBe(10);
    // General-path lines in the middle of a run fold into the same subtrees.
    const mixed = many
      .slice(0, 64)
      .map((l, i) => (i % 5 === 2 ? l.replace('{"kind":"entry",', '{ "kind":"entry",') : l));
    await agree(keys, [bytes(mixed)]);
  });
});
