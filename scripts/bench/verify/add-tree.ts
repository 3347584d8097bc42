/**
 * The bench's tree pass: a copy of a generated export with log v2 `tree-checkpoint` lines
 * (FORMATS.md "Export"), each right after the entry that ends its tree — `count` of them at even
 * sizes, the last at the export's end — signed by an Ed25519 log key made here and named after
 * the origin `bench.kakunin.example/<issuer>`. kakunin-verify log --log-key then recomputes the
 * tree and checks every one. Streams: memory stays flat whatever the export's size.
 */
import { createHash, webcrypto } from "node:crypto";
import { createReadStream, createWriteStream, renameSync } from "node:fs";
import { createInterface } from "node:readline";
import {
  formatCheckpoint,
  formatVerifierKey,
  signNote,
  StreamingCompactRange,
} from "../../../verifier/src/formats/index.js";

const ENTRY = '{"kind":"entry","entry":';
const sha256 = (d: Uint8Array) => createHash("sha256").update(d).digest();

/** Writes `out` from `input` with tree checkpoints; returns the log's verifier key. */
export async function addTreeCheckpoints(input: string, out: string, n: number, count = 8): Promise<string> {
  const kp = (await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const pub = new Uint8Array(await webcrypto.subtle.exportKey("raw", kp.publicKey));
  const sizes = new Set(Array.from({ length: count }, (_, i) => Math.round(((i + 1) * n) / count)));
  const range = new StreamingCompactRange(sha256);
  const tmp = `${out}.tmp`;
  const w = createWriteStream(tmp);
  const write = (s: string) => (w.write(s) ? Promise.resolve() : new Promise<void>((r) => w.once("drain", () => r())));
  let origin = "";
  let vkey = "";
  let buf = "";
  for await (const line of createInterface({ input: createReadStream(input, { highWaterMark: 1 << 20 }) })) {
    buf += `${line}\n`;
    if (!origin && line.startsWith('{"kind":"header"')) {
      origin = `bench.kakunin.example/${(JSON.parse(line) as { issuer: string }).issuer}`;
      vkey = await formatVerifierKey(origin, pub);
    }
    if (line.startsWith(ENTRY)) {
      // The generator writes each entry as its leaf data exactly (canonical text, then hash and sig).
      const leaf = Buffer.concat([Buffer.from([0]), Buffer.from(line.slice(ENTRY.length, -1), "utf8")]);
      range.append(sha256(leaf));
      if (sizes.has(range.size)) {
        const text = formatCheckpoint({ origin, size: range.size, root: await range.root(), extensions: [] });
        const note = await signNote(
          text,
          origin,
          pub,
          async (m) => new Uint8Array(await webcrypto.subtle.sign("Ed25519", kp.privateKey, m)),
        );
        buf += `${JSON.stringify({ kind: "tree-checkpoint", note })}\n`;
      }
    }
    if (buf.length > 1 << 20) {
      await write(buf);
      buf = "";
    }
  }
  await write(buf);
  await new Promise<void>((r, j) => w.end((e?: Error | null) => (e ? j(e) : r())));
  renameSync(tmp, out);
  return vkey;
}
