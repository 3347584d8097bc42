/**
 * The native block path parses hostile bytes in C, so beyond the edges native-block.test.ts names,
 * fast-check throws at it what a parser gets wrong: a line cut at every byte (no newline after it),
 * edits with quotes, escapes, surrogates, NUL, CR and long runs, and random bytes spliced in.
 * Both block paths must give the same results line by line. Run it under AddressSanitizer to catch
 * reads past a buffer (verifier/README.md, "The native addon": the ASan build and LD_PRELOAD).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCertificatePem } from "../../../verifier/src/x509/certificate.js";
import { jsBlocks, nativeBlocks, nativeBlocksOf } from "./fixtures/block-paths.js";
import { scenario } from "./fixtures/scenario.js";
import * as t from "./tamper.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const enc = new TextEncoder();
let keys: Map<string, Uint8Array>;
let op: string; // a server-format agent.operation line, which the native path takes whole

beforeAll(async () => {
  const s = await scenario();
  keys = new Map(
    await Promise.all(
      s.certs.map(async (c) => [c.serial, (await parseCertificatePem(c.pem)).spki] as [string, Uint8Array]),
    ),
  );
  const lines = t.serverFormat(s.lines);
  op = lines[t.entryIndex(lines, 5)]!;
}, 120_000);

/** Both paths over one block (each its own exact-size copy, so a read past the end is past the allocation). */
async function agree(block: Uint8Array) {
  const { results } = await nativeBlocksOf(keys, [block.slice()]);
  expect(results).toEqual(await jsBlocks(keys, [block.slice()]));
}

describe.skipIf(!nativeBlocks)("native block path under hostile bytes", () => {
  it("a line cut at every byte, with no newline after it", async () => {
    const line = enc.encode(op);
    for (let n = 0; n <= line.length; n++) await agree(line.subarray(0, n));
  }, 120_000);

  it("edits with quotes, escapes, surrogates, control bytes and long runs", async () => {
    const pieces = ["\\", '"', '\\"', "\\u", "\\u00", "\\ud800", "\u00e9", "\u0000", "\r", "\n", "{", "}", ":", ","];
    const piece = fc.oneof(
      fc.constantFrom(...pieces, "0", "-", "e", "\uffff", "\u{1f600}"),
      fc.constant("x".repeat(5000)),
    );
    const edit = fc.record({ at: fc.nat(), cut: fc.nat(4), put: piece });
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), fc.boolean(), async (edits, newline) => {
        let line = op;
        for (const e of edits) {
          const p = e.at % (line.length + 1);
          line = line.slice(0, p) + e.put + line.slice(p + e.cut);
        }
        await agree(enc.encode(line + (newline ? "\n" : "")));
      }),
      { numRuns: RUNS },
    );
  }, 300_000);

  it("random bytes spliced into a line", async () => {
    const line = enc.encode(op + "\n");
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.nat(), async (junk, at) => {
        const p = at % line.length;
        const block = new Uint8Array(line.length + junk.length);
        block.set(line.subarray(0, p));
        block.set(junk, p);
        block.set(line.subarray(p), p + junk.length);
        await agree(block);
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
