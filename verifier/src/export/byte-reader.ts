/**
 * The byte reader: an export as raw bytes (a file, `Blob.stream()`) in chunks of any size, cut into
 * lines with bounded memory and fed to the feeder — one decoded line at a time through the
 * preamble, then each chunk's complete lines as one undecoded block.
 */
import type { Report } from "../report.js";
import { startsWithBom, strictUtf8Decoder } from "../parse/strict-json.js";
import { MAX_LINE_LENGTH } from "../worker-core.js";
import { ExportVerifier, type VerifyExportOptions } from "./export-verifier.js";
import { Feeder } from "./feeder.js";
import { decodeLine, LF } from "./line-decoding.js";

/** A fresh Uint8Array with bytes [from, to) of `data` (Node's Buffer#slice would share memory). */
function copyOf(data: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  out.set(data.subarray(from, to));
  return out;
}

/** A line this many UTF-8 bytes long has more than MAX_LINE_LENGTH UTF-16 units (≤ 3 bytes each). */
const OVERLONG_BYTES = 3 * MAX_LINE_LENGTH;

/**
 * {@link verifyExport} over the export's raw bytes (e.g. a file or `Blob.stream()`), in chunks of
 * any size. Lines are strict UTF-8: a line with an invalid sequence is ERR_MALFORMED (never
 * U+FFFD); a byte order mark is skipped at byte 0 only (elsewhere it is malformed). Once past
 * the preamble (header, certificates, CRL), whole blocks of lines go to the pool undecoded when it
 * offers {@link SignaturePool.verifyBlock}, so this thread does almost nothing per entry. Memory
 * stays bounded: a line without an end past 3 MiB is reported as too long and skipped, not kept.
 */
export async function verifyExportBytes(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: VerifyExportOptions,
): Promise<Report> {
  const f = new Feeder(new ExportVerifier(opts), opts);
  f.bomChecked = true; // the BOM is judged on bytes here
  const decoder = strictUtf8Decoder();
  let first = true; // a BOM is accepted at byte 0 of the export only
  const partial = new ByteBuffer(); // the start of a line that has not ended yet
  let skipping = false; // inside an over-long line, up to its "\n"

  /**
   * Whole lines (`lines` ends with "\n" and is ours: a fresh buffer, whole): decoded here one by
   * one in the preamble, then handed over as one block.
   */
  const feed = async (lines: Uint8Array): Promise<void> => {
    let start = 0;
    while (!f.v.body && !f.stopped && start < lines.length) {
      const nl = lines.indexOf(LF, start);
      await f.line(decodeLine(decoder, lines.subarray(start, nl)));
      start = nl + 1;
    }
    if (f.stopped || start === lines.length) return;
    await f.block(start === 0 ? lines : copyOf(lines, start, lines.length), decoder);
  };

  for await (const chunk of chunks as AsyncIterable<Uint8Array>) {
    let data = chunk;
    if (first && data.length > 0) {
      first = false;
      if (startsWithBom(data)) data = data.subarray(3);
    }
    if (skipping) {
      const nl = data.indexOf(LF);
      if (nl < 0) continue;
      skipping = false;
      data = data.subarray(nl + 1);
    }
    const last = data.lastIndexOf(LF);
    if (last >= 0) {
      // One block per chunk: the line begun in earlier chunks, then every line ending in this one.
      const block = new Uint8Array(partial.length + last + 1);
      block.set(partial.view());
      block.set(data.subarray(0, last + 1), partial.length);
      partial.clear();
      await feed(block);
      if (f.stopped) return f.v.finish();
    }
    partial.append(data.subarray(last + 1));
    if (partial.length > OVERLONG_BYTES) {
      partial.clear();
      await f.overlong();
      skipping = true;
    }
  }
  if (partial.length) {
    const block = new Uint8Array(partial.length + 1);
    block.set(partial.view());
    block[partial.length] = LF;
    await feed(block);
    if (f.stopped) return f.v.finish();
  }
  return f.finish();
}

/** A growable byte buffer (capacity doubles), so a line arriving in many small chunks costs linear time. */
class ByteBuffer {
  #buf = new Uint8Array(0);
  length = 0;
  append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const need = this.length + bytes.length;
    if (need > this.#buf.length) {
      const next = new Uint8Array(Math.max(need, this.#buf.length * 2, 4096));
      next.set(this.#buf.subarray(0, this.length));
      this.#buf = next;
    }
    this.#buf.set(bytes, this.length);
    this.length = need;
  }
  /** The bytes so far (a view, valid until the next change). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }
  clear(): void {
    this.length = 0;
    if (this.#buf.length > 1 << 16) this.#buf = new Uint8Array(0); // do not keep a huge line's buffer
  }
}
