/** Export lines from bytes: strict UTF-8, never U+FFFD (FORMATS.md "Encodings"). */

/** "\n" */
export const LF = 10;

/** Stands for a line that is not valid UTF-8. */
export const INVALID_UTF8 = Symbol("invalid UTF-8");
export type InvalidUtf8 = typeof INVALID_UTF8;

/** A line's text, or {@link INVALID_UTF8} when its bytes are not UTF-8 (`decoder` is fatal). */
export function decodeLine(decoder: TextDecoder, bytes: Uint8Array): string | InvalidUtf8 {
  try {
    return decoder.decode(bytes);
  } catch {
    return INVALID_UTF8;
  }
}
