/**
 * Fuzz suite (issue 13): fast-check mutates exports and receipts built by the test PKI with real
 * RSA keys — byte flips, member duplication, re-encoding, reordering, certificate substitution,
 * truncation — and asserts that
 *   1. a change to any signed byte is never PASSED (library), and a re-encoding that keeps every
 *      signed byte gives the original verdict;
 *   2. the CLI (a real child process, worker threads, native crypto when built) gives the library's verdict;
 *   3. the workers' fast path and the general path agree line by line (differential), and so do
 *      the workers' two block paths (JavaScript, and the native addon's when built).
 * A bounded run is part of `npm test`; `npm run fuzz -- --runs N [--seed S]` runs longer and
 * prints the seed to replay a failure (FUZZ_RUNS / FUZZ_SEED).
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { LineVerifier, verifyExport, verifyExportBytes, verifyReceipt } from "../../verifier/src/index.js";
import { nodeLineCrypto } from "../../verifier/src/node/node-crypto.js";
import { jsBlocks, nativeBlocks, nativeBlocksOf } from "../unit/verifier/fixtures/block-paths.js";
import { cliSandbox, EXIT } from "../unit/verifier/fixtures/cli.js";
import { scenario, type Scenario } from "../unit/verifier/fixtures/scenario.js";
import * as t from "../unit/verifier/tamper.js";
import { ZERO_HASH } from "../../verifier/src/formats/hash.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** One CLI run per this many cases (a child process costs ~0.3 s). */
const CLI_EVERY = Number(process.env.FUZZ_CLI_EVERY ?? 8);
const box = cliSandbox("kakunin-fuzz-");
const enc = new TextEncoder();

let s: Scenario;
let base: string[]; // server format, with payload lines
let keys: Map<string, Uint8Array>;
beforeAll(async () => {
  s = await scenario();
  base = t.serverFormat(await s.chain.exportLines(s.certs, s.crl, { payloads: true }));
  const { parseCertificatePem } = await import("../../verifier/src/x509/certificate.js");
  keys = new Map(
    await Promise.all(
      s.certs.map(async (c) => [c.serial, (await parseCertificatePem(c.pem)).spki] as [string, Uint8Array]),
    ),
  );
  console.log(`fuzz: seed=${SEED} runs=${RUNS} (replay: npm run fuzz -- --runs ${RUNS} --seed ${SEED})`);
}, 120_000);

const trust = () => ({ caFingerprint: s.ca.fingerprint });
/** Lines whose every byte is covered by a signature or a hash (entries, checkpoint, payloads). */
const signedLine = (l: string) =>
  l.startsWith('{"kind":"entry"') || l.startsWith('{"kind":"checkpoint"') || l.startsWith('{"kind":"payload"');

type Mutation = { name: string; apply(lines: string[]): string[] | string };

/** Mutations that change at least one signed byte (or the order/set of signed lines). */
const signedMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ line: fc.nat(), at: fc.nat(), bit: fc.integer({ min: 0, max: 6 }) }).map(({ line, at, bit }) => ({
    name: `flip bit ${bit} at ${at} of signed line #${line}`,
    apply(lines: string[]) {
      const idx = lines.map((l, i) => (signedLine(l) ? i : -1)).filter((i) => i >= 0);
      const i = idx[line % idx.length]!;
      const l = lines[i]!;
      // A payload line whose `kind` is changed is an unknown line, i.e. an absent (erased) payload:
      // legal, so flips there start after the kind.
      const from = l.startsWith('{"kind":"payload"') ? 17 : 0;
      const p = from + (at % (l.length - from));
      const out = [...lines];
      out[i] = l.slice(0, p) + String.fromCharCode(l.charCodeAt(p) ^ (1 << bit)) + l.slice(p + 1);
      return out;
    },
  })),
  fc
    .record({
      line: fc.nat(),
      member: fc.nat(),
      value: fc.constantFrom('"x"', "0", "1", `"${ZERO_HASH}"`, "null", "{}"),
    })
    .map(({ line, member, value }) => ({
      name: `duplicate member #${member} = ${value} in signed line #${line}`,
      apply(lines: string[]) {
        const idx = lines.map((l, i) => (signedLine(l) ? i : -1)).filter((i) => i >= 0);
        const i = idx[line % idx.length]!;
        const l = lines[i]!;
        const keysAt = [...l.matchAll(/[{,]"([A-Za-z]+)":/g)];
        const m = keysAt[member % keysAt.length]!;
        const out = [...lines];
        out[i] = `${l.slice(0, m.index! + 1)}"${m[1]}":${value},${l.slice(m.index! + 1)}`;
        return out;
      },
    })),
  fc.record({ a: fc.nat(), b: fc.nat() }).map(({ a, b }) => ({
    name: `swap entry lines ${a} and ${b}`,
    apply(lines: string[]) {
      const idx = lines.map((l, i) => (l.startsWith('{"kind":"entry"') ? i : -1)).filter((i) => i >= 0);
      const i = idx[a % idx.length]!;
      let j = idx[b % idx.length]!;
      if (i === j) j = idx[(a + 1) % idx.length]!;
      const out = [...lines];
      [out[i], out[j]] = [out[j]!, out[i]!];
      return out;
    },
  })),
  fc.record({ which: fc.nat(), other: fc.nat() }).map(({ which, other }) => ({
    name: `certificate substitution ${which}→${other}`,
    apply(lines: string[]) {
      const idx = lines.map((l, i) => (l.startsWith('{"kind":"certificate"') ? i : -1)).filter((i) => i >= 0);
      const i = idx[which % idx.length]!;
      let j = idx[other % idx.length]!;
      if (i === j) j = idx[(which + 1) % idx.length]!;
      const pem = JSON.parse(lines[j]!).pem;
      return t.editLine(lines, i, (v) => {
        v.pem = pem;
      });
    },
  })),
  fc.nat().map((cut) => ({
    name: `truncate at byte ${cut}`,
    apply(lines: string[]) {
      const text = lines.join("\n") + "\n";
      const first = lines[0]!.length + 1;
      const lastEntryEnd = text.lastIndexOf('{"kind":"checkpoint"');
      // Somewhere from the end of the header to just inside the checkpoint line.
      return text.slice(0, first + (cut % (lastEntryEnd + 10 - first)));
    },
  })),
  fc.record({ line: fc.nat() }).map(({ line }) => ({
    name: `delete entry or checkpoint line #${line}`,
    apply(lines: string[]) {
      // (A payload line may be absent: an erased payload, FORMATS.md; the chain does not change.)
      const idx = lines
        .map((l, i) => (signedLine(l) && !l.startsWith('{"kind":"payload"') ? i : -1))
        .filter((i) => i >= 0);
      return t.deleteLine(lines, idx[line % idx.length]!);
    },
  })),
);

/** Re-encodings that keep every signed byte: key order, whitespace, \u escapes. */
const reencoding: fc.Arbitrary<Mutation> = fc
  .record({ line: fc.nat(), style: fc.constantFrom("reverse-keys", "indent", "escape") })
  .map(({ line, style }) => ({
    name: `re-encode entry #${line} (${style})`,
    apply(lines: string[]) {
      const idx = lines.map((l, i) => (l.startsWith('{"kind":"entry"') ? i : -1)).filter((i) => i >= 0);
      const i = idx[line % idx.length]!;
      const v = JSON.parse(lines[i]!);
      const rev = (o: unknown): unknown =>
        o && typeof o === "object" && !Array.isArray(o)
          ? Object.fromEntries(
              Object.keys(o)
                .reverse()
                .map((k) => [k, rev((o as Record<string, unknown>)[k])]),
            )
          : o;
      const out = [...lines];
      if (style === "reverse-keys") out[i] = JSON.stringify(rev(v));
      else if (style === "indent") out[i] = JSON.stringify(v, null, 1).replace(/\n/g, " ");
      else
        out[i] = JSON.stringify(v).replace(
          /"agent":"([^"]*)"/,
          (_m, a: string) =>
            `"agent":"${[...a].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}"`,
        );
      return out;
    },
  }));

const asText = (m: string[] | string) => (typeof m === "string" ? m : m.join("\n") + "\n");
let cliCount = 0;
function cliAgrees(text: string, verdict: string, unreadable?: boolean) {
  if (cliCount++ % CLI_EVERY !== 0) return;
  const c = box.cli("log", box.file(text), "--ca-fingerprint", s.ca.fingerprint, "--json", "--workers", "2");
  expect(c.status).toBe(unreadable ? 2 : EXIT[verdict]);
  if (!unreadable) expect(c.json?.verdict).toBe(verdict);
}

/** Fast path (node crypto + native one-call when built) and general path (WebCrypto) agree per line. */
async function differential(text: string) {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const general = await new LineVerifier(keys).verifyLines(lines);
  const fast = await new LineVerifier(keys, nodeLineCrypto()).verifyLines(lines);
  const norm = (r: (typeof general)[number]) =>
    r.kind === "entry"
      ? { kind: r.kind, entry: r.entry, hashOk: r.hashOk, sigOk: r.sigOk }
      : r.kind === "malformed"
        ? { kind: r.kind, field: r.field }
        : r;
  expect(fast.map(norm)).toEqual(general.map(norm));
  if (nativeBlocks) {
    const block = [enc.encode(text.endsWith("\n") ? text : `${text}\n`)];
    expect((await nativeBlocksOf(keys, block)).results).toEqual(await jsBlocks(keys, block));
  }
}

describe("fuzz", () => {
  it("a change to any signed byte of an export is never PASSED; CLI and library agree; fast = general path", async () => {
    expect((await verifyExport(base, { trust: trust() })).verdict).toBe("PASSED");
    await fc.assert(
      fc.asyncProperty(signedMutation, async (m) => {
        const text = asText(m.apply([...base]));
        const r = await verifyExportBytes([enc.encode(text)], { trust: trust() });
        expect(r.verdict, m.name).not.toBe("PASSED");
        const viaLines = await verifyExport(text.split("\n").slice(0, text.endsWith("\n") ? -1 : undefined), {
          trust: trust(),
        });
        expect(viaLines.verdict, m.name).toBe(r.verdict);
        await differential(text);
        cliAgrees(text, r.verdict, r.unreadable);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });
  it("a re-encoding that keeps every signed byte keeps the verdict (general path), fast = general", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reencoding, { minLength: 1, maxLength: 3 }), async (ms) => {
        let lines = [...base];
        for (const m of ms) lines = m.apply(lines) as string[];
        const text = asText(lines);
        const r = await verifyExportBytes([enc.encode(text)], { trust: trust() });
        expect(r.verdict, ms.map((m) => m.name).join("; ")).toBe("PASSED");
        await differential(text);
        cliAgrees(text, r.verdict);
      }),
      { numRuns: Math.max(5, Math.floor(RUNS / 4)), seed: SEED, endOnFailure: true },
    );
  });
  it("a change to any signed byte of a receipt is never PASSED; CLI and library agree", async () => {
    const rc = await s.chain.receipt(5, { crl: s.crl }, s.signerOf);
    const text = JSON.stringify(rc);
    expect((await verifyReceipt(text, { trust: trust() })).verdict).toBe("PASSED");
    const start = text.indexOf('"entry":') + 8;
    const end = text.indexOf(',"certificates"');
    const mutation = fc.oneof(
      fc
        .record({ at: fc.integer({ min: start, max: end - 1 }), bit: fc.integer({ min: 0, max: 6 }) })
        .map(
          ({ at, bit }) =>
            text.slice(0, at) + String.fromCharCode(text.charCodeAt(at) ^ (1 << bit)) + text.slice(at + 1),
        ),
      fc
        .constantFrom("seq", "time", "agent", "payloadHash", "cert", "sig")
        .map((k) => text.replace(`"${k}":`, `"${k}":${k === "seq" ? "6" : '"x"'},"${k}":`)),
      fc.constantFrom(s.a1, s.b1, s.log).map((c) => JSON.stringify({ ...rc, certificates: [c.pem, s.ca.pem] })),
      fc.integer({ min: 1, max: text.length - 1 }).map((n) => text.slice(0, n)),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const r = await verifyReceipt(m, { trust: trust() });
        expect(r.verdict).not.toBe("PASSED");
        if (n++ % CLI_EVERY === 0) {
          const c = box.cli("receipt", box.file(m), "--ca-fingerprint", s.ca.fingerprint, "--json");
          expect(c.status).toBe(r.unreadable ? 2 : EXIT[r.verdict]);
          if (!r.unreadable) expect(c.json?.verdict).toBe(r.verdict);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });
});
