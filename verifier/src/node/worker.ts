/** worker_threads entry: runs worker-core's LineVerifier on batches posted by NodeWorkerPool. */
import { parentPort, workerData } from "node:worker_threads";
import { strictUtf8Decoder } from "../parse/strict-json.js";
import { LineVerifier, verifyBlockBytes } from "../worker-core.js";
import { CompactEncoder, encodeResults, useNativeTreeHash, type CompactResults } from "./compact.js";
import { hasBlockPath, NativeBlockVerifier } from "./native-block.js";
import { loadNative } from "./native.js";
import { nodeLineCrypto } from "./node-crypto.js";

const native = (workerData as { native?: boolean } | null)?.native !== false;
const crypto = nodeLineCrypto({ native });
useNativeTreeHash(native);
const verifier = new LineVerifier(undefined, crypto);
// Invalid UTF-8 is malformed (never U+FFFD); a BOM stays in the text, where it is malformed JSON.
const decoder = strictUtf8Decoder();
const port = parentPort!;
const addon = native ? loadNative() : undefined;
// Blocks through the addon's block path when it has one (node/native-block.ts), else line by line below.
const blocks = hasBlockPath(addon) ? new NativeBlockVerifier(addon, verifier, decoder) : undefined;

type Msg =
  | { id: number; type: "keys"; keys: [string, Uint8Array][] }
  | { id: number; type: "lines"; lines: string[] }
  | { id: number; type: "text"; text: string; count: number }
  | { id: number; type: "block"; bytes: Uint8Array };

function reply(id: number, pending: Promise<{ msg: CompactResults; transfer: ArrayBuffer[] }>): void {
  pending.then(
    ({ msg: compact, transfer }) => port.postMessage({ id, compact }, transfer),
    (e: unknown) => port.postMessage({ id, error: String(e) }),
  );
}

/**
 * V8 puts strings over 128 KiB straight into the old generation, where they linger until a full
 * GC; decoding a block in pieces below that size keeps them young and the RSS flat.
 */
const PIECE = 96 * 1024;

async function verifyBlock(bytes: Uint8Array): Promise<{ msg: CompactResults; transfer: ArrayBuffer[] }> {
  const enc = new CompactEncoder();
  for (let start = 0; start < bytes.length;) {
    let end = Math.min(start + PIECE, bytes.length);
    if (end < bytes.length) {
      const nl = bytes.lastIndexOf(10, end - 1);
      end = nl >= start ? nl + 1 : bytes.indexOf(10, end) + 1 || bytes.length;
    }
    for (const r of await verifyBlockBytes(verifier, bytes.subarray(start, end), decoder)) enc.add(r);
    start = end;
  }
  return enc.finish();
}

port.on("message", (msg: Msg) => {
  if (msg.type === "keys") {
    verifier.setKeys(new Map(msg.keys));
    blocks?.setKeys(new Map(msg.keys));
    port.postMessage({ id: msg.id, results: [], crypto: crypto.name });
    return;
  }
  if (msg.type === "block") {
    // The block's buffer goes back with the results: dead here, it would wait for a full GC
    // (V8 counts it as external memory: tens of MB per worker); the main thread's frequent
    // young-generation collections free it at once.
    const bytes = msg.bytes;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const done = (blocks ? blocks.verify(bytes) : verifyBlock(bytes)).then(({ msg: m, transfer }) =>
      whole
        ? { msg: { ...m, spent: bytes }, transfer: [...transfer, bytes.buffer as ArrayBuffer] }
        : { msg: m, transfer },
    );
    reply(msg.id, done);
    return;
  }
  const lines = msg.type === "text" ? msg.text.split("\n") : msg.lines;
  if (lines.length !== (msg.type === "text" ? msg.count : lines.length)) {
    port.postMessage({
      id: msg.id,
      error: `batch split into ${lines.length} lines, expected ${(msg as { count: number }).count}`,
    });
    return;
  }
  reply(msg.id, verifier.verifyLines(lines).then(encodeResults));
});
