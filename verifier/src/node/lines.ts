/**
 * Splits a byte stream into lines without ever buffering more than maxLength characters of one
 * line: an over-long line is yielded cut to maxLength + 1 characters so the verifier rejects it.
 */
import type { Readable } from "node:stream";

export async function* readLines(stream: Readable, maxLength: number, onBytes?: (n: number) => void): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8");
  let buf = "";
  let overlong = false;
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    onBytes?.(chunk.byteLength);
    buf += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (overlong) {
        overlong = false;
        yield "x".repeat(maxLength + 1);
      } else yield line;
    }
    if (buf.length > maxLength) {
      overlong = true;
      buf = "";
    }
  }
  buf += decoder.decode();
  if (overlong) yield "x".repeat(maxLength + 1);
  else if (buf.length) yield buf;
}
