/**
 * The CLI's path — verifyExportBytes over raw chunks, NodeWorkerPool workers, the fast line parser
 * and (when built) the native OpenSSL addon — must reach exactly the verdicts of the reference
 * path (verifyExport over lines, WebCrypto on this thread) on every tampered export, whatever the
 * chunking. Reports are compared whole (minus wording-independent ordering).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyExportBytes, type Report } from "../../../verifier/src/index.js";
import { NodeWorkerPool } from "../../../verifier/src/node/worker-pool.js";
import { loadNative } from "../../../verifier/src/node/native.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import { rng } from "./fixtures/rng.js";
import * as t from "./tamper.js";

let s: Scenario;
let native: NodeWorkerPool;
let nodeCrypto: NodeWorkerPool;
beforeAll(async () => {
  s = await scenario();
  native = new NodeWorkerPool(2);
  nodeCrypto = new NodeWorkerPool(2, { native: false });
}, 120_000);
afterAll(async () => {
  await native?.close();
  await nodeCrypto?.close();
});

const trust = () => ({ caFingerprint: s.ca.fingerprint });
/** What must agree between paths. */
const essence = (r: Report) => ({
  verdict: r.verdict,
  counts: r.counts,
  steps: r.steps.map((x) => [x.name, x.status]),
  errors: r.errors.map((e) => [e.code, e.line, e.seq, e.field]),
  findings: r.findings.map((f) => [f.seq, f.line, f.verdict, f.reason, f.code]),
});

/** The bytes cut into chunks: 1 byte, a fixed size, or random sizes. */
function* chunked(bytes: Uint8Array, mode: "1" | "7" | "random" | "whole", seed = 1): Generator<Uint8Array> {
  const next = rng(seed);
  for (let i = 0; i < bytes.length;) {
    const n = mode === "1" ? 1 : mode === "7" ? 7 : mode === "whole" ? bytes.length : 1 + Math.floor(next() * 400);
    // Node's Buffer-like views over a larger buffer, as fs streams give them.
    yield bytes.subarray(i, Math.min(bytes.length, i + n));
    i += n;
  }
}

const text = (lines: readonly string[], eol = "\n") => new TextEncoder().encode(lines.join(eol) + eol);

/** Tampered exports built from `L` (edits keep each line's key order, so a server-format export stays one). */
const variants = (L: readonly string[]): [string, string[]][] => {
  return [
    ["untouched", [...L]],
    ["sig flipped", t.flipEntryField(L, 5, "sig")],
    ["hash flipped", t.flipEntryField(L, 5, "hash")],
    ["prevHash flipped", t.flipEntryField(L, 6, "prevHash")],
    ["agent flipped", t.flipEntryField(L, 8, "agent")],
    ["seq flipped", t.flipEntryField(L, 3, "seq")],
    ["time flipped", t.flipEntryField(L, 9, "time")],
    ["details flipped", t.flipEntryField(L, 2, "details.contentType")],
    [
      "sig not base64",
      t.editEntry(L, 5, (e) => {
        e.sig = "not*base64";
      }),
    ],
    [
      "sig empty",
      t.editEntry(L, 5, (e) => {
        e.sig = "";
      }),
    ],
    [
      "sig too long",
      t.editEntry(L, 5, (e) => {
        e.sig = "QUFB".repeat(600);
      }),
    ],
    [
      "unknown signer",
      t.editEntry(L, 6, (e) => {
        e.signer.cert = "0a";
      }),
    ],
    [
      "PKCS#1 alg",
      t.editEntry(L, 6, (e) => {
        e.signer.alg = "RSASSA_PKCS1_V1_5_SHA_256";
      }),
    ],
    ["entry deleted", t.deleteEntry(L, 5)],
    ["entry duplicated", t.duplicateEntry(L, 5)],
    ["entries swapped", t.swapEntries(L, 5, 6)],
    ["tail truncated", t.truncateTail(L, 2, false)],
    ["garbage line", t.insertLine(L, t.entryIndex(L, 4), "{not json")],
    ["blank lines", t.insertLine(t.insertLine(L, t.entryIndex(L, 4), "   "), t.entryIndex(L, 2), "")],
    ["header after entries", t.insertLine(L, t.entryIndex(L, 6), L[0]!)],
    ["extra field after sig", L.map((l, i) => (i === t.entryIndex(L, 5) ? `${l.slice(0, -2)},"x":"y"}}` : l))],
    ["huge line", t.insertLine(L, t.entryIndex(L, 3), `{"kind":"entry","x":"${"a".repeat(1 << 20)}"}`)],
  ];
};

describe("verifyExportBytes + NodeWorkerPool agree with verifyExport (WebCrypto, lines)", () => {
  it("the native addon is built (KAKUNIN_REQUIRE_NATIVE=1 in CI)", () => {
    if (process.env.KAKUNIN_REQUIRE_NATIVE === "1") expect(loadNative()).toBeDefined();
    else if (!loadNative()) console.warn("native addon not built: the native variants below run node:crypto");
  });

  for (const format of ["as built", "server format"] as const) {
    it(`every tamper variant, ${format}, native and node:crypto workers, several chunkings`, async () => {
      for (const [name, lines] of variants(format === "server format" ? t.serverFormat(s.lines) : s.lines)) {
        const ref = essence(await verifyExport(lines, { trust: trust() }));
        for (const [pool, label] of [
          [native, "native"],
          [nodeCrypto, "node:crypto"],
        ] as const) {
          for (const mode of ["whole", "7", "random"] as const) {
            const got = essence(
              await verifyExportBytes(chunked(text(lines), mode, name.length), { trust: trust(), pool, batchSize: 3 }),
            );
            expect(got, `${name} / ${label} / chunks ${mode}`).toEqual(ref);
          }
        }
      }
    }, 120_000);
  }

  it("CRLF line ends, 1-byte chunks and a missing final newline give the same report", async () => {
    const lines = t.serverFormat(t.flipEntryField(s.lines, 5, "sig"));
    const ref = essence(await verifyExport(lines, { trust: trust() }));
    expect(
      essence(await verifyExportBytes(chunked(text(lines, "\r\n"), "1"), { trust: trust(), pool: native })),
    ).toEqual(ref);
    const noFinal = new TextEncoder().encode(lines.join("\n"));
    expect(essence(await verifyExportBytes([noFinal], { trust: trust(), pool: native }))).toEqual(ref);
  });

  it("without a pool (in-thread WebCrypto) too, and an over-long line without an end never buffers whole", async () => {
    const lines = t.serverFormat(s.lines);
    expect(essence(await verifyExportBytes(chunked(text(lines), "random", 7), { trust: trust() }))).toEqual(
      essence(await verifyExport(lines, { trust: trust() })),
    );
    // 4 MiB without a newline in the middle of the body, in random chunks: reported at its line
    // (as verifyExport reports a 4 Mi-character line), the rest still verified.
    const at = t.entryIndex(lines, 5);
    const huge = new Uint8Array(4 << 20).fill(0x61);
    const chunks = [text(lines.slice(0, at)), huge, new Uint8Array([10]), text(lines.slice(at + 1))].flatMap((c) => [
      ...chunked(c, "random", 3),
    ]);
    const r = await verifyExportBytes(chunks, { trust: trust(), pool: native });
    expect(r.errors).toContainEqual(expect.objectContaining({ code: "ERR_MALFORMED", line: at + 1 }));
    const ref = await verifyExport([...lines.slice(0, at), "a".repeat(4 << 20), ...lines.slice(at + 1)], {
      trust: trust(),
    });
    expect(essence(r)).toEqual(essence(ref));
  });

  it("reports progress with line counts that end at the number of lines", async () => {
    const lines = t.serverFormat(s.lines);
    const seen: number[] = [];
    await verifyExportBytes([text(lines)], { trust: trust(), pool: native, onProgress: (p) => seen.push(p.lines) });
    expect(seen.at(-1)).toBe(lines.length);
  });
});
