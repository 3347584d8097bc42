/**
 * Strict request-body JSON: RFC 8259 syntax plus the I-JSON (RFC 7493) rules, so that what the
 * log signs (the RFC 8785 form of the parsed value) denotes exactly what the client sent:
 *
 * - no duplicate member names, at any depth (JSON.parse silently keeps the last one);
 * - every number round-trips through an IEEE 754 double (JSON.parse rounds 12345678901234567890 to
 *   12345678901234567000; `1.0`, `1e2` and `-0` denote the same number as their JCS form and pass);
 * - no lone surrogates and no noncharacters in strings (RFC 7493 §2.1);
 * - nesting at most {@link MAX_BODY_DEPTH} deep (what the verifier accepts in an export);
 * - UTF-8 only (checked by the caller on the bytes, see body.ts).
 *
 * JSON.parse (native) builds the value; one linear pass over the text then checks the rules. No
 * library on npm does both strictly and fast (the JSON-with-duplicates parsers are several times
 * slower than JSON.parse on the append hot path), and the pass is ~40 lines.
 */

/** A body that is valid JSON but not I-JSON; `path` names the member (e.g. `payload.items.3.d`). */
export class IJsonViolation extends Error {
  constructor(
    readonly code:
      "ERR_JSON_DUPLICATE_MEMBER" | "ERR_JSON_NUMBER_NOT_EXACT" | "ERR_JSON_INVALID_STRING" | "ERR_JSON_TOO_DEEP",
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = "IJsonViolation";
  }
}

/** Not JSON at all (RFC 8259 syntax). */
export class MalformedJson extends Error {
  override name = "MalformedJson";
}

/**
 * Deepest nesting a body may have: the verifier refuses any export line nested deeper than 128
 * (verifier/FORMATS.md), and a payload line `{"kind":"payload",…,"json":X}` nests X one level deeper
 * than the body `{"payload":X}` did, so a body within this limit stays verifiable once exported.
 */
export const MAX_BODY_DEPTH = 128;

/** Parse `text` as I-JSON; throws {@link MalformedJson} or {@link IJsonViolation}. */
export function parseIJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new MalformedJson((e as Error).message);
  }
  checkIJson(text);
  return value;
}

// Lone surrogates (u-mode matches paired ones as one astral code point) and the 66 noncharacters.
const BAD_STRING = /[\p{Cs}\p{Noncharacter_Code_Point}]/u;

type Frame = { keys: Set<string> | undefined; object: boolean; expectKey: boolean; index: number };

/** The I-JSON checks over text already known to be valid JSON. */
function checkIJson(text: string): void {
  const stack: Frame[] = [];
  const path: Array<string | number> = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const object = c === 0x7b;
      if (stack.length >= MAX_BODY_DEPTH)
        throw new IJsonViolation(
          "ERR_JSON_TOO_DEEP",
          fieldOf(path),
          `Nesting deeper than ${MAX_BODY_DEPTH} levels at ${fieldOf(path) || "the top level"} (an exported log line may nest at most 128 deep)`,
        );
      stack.push({ keys: undefined, object, expectKey: object, index: 0 });
      path.push(object ? "" : 0);
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      path.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1]!;
      if (top.object) top.expectKey = true;
      else path[path.length - 1] = ++top.index;
      i++;
    } else if (c === 0x22 /* " */) {
      const end = stringEnd(text, i);
      const raw = text.slice(i + 1, end);
      const value = raw.includes("\\") ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
      const top = stack[stack.length - 1];
      const isKey = top?.expectKey === true;
      if (top && isKey) {
        top.expectKey = false;
        path[path.length - 1] = value;
        top.keys ??= new Set();
        if (top.keys.has(value))
          throw new IJsonViolation(
            "ERR_JSON_DUPLICATE_MEMBER",
            fieldOf(path),
            `Duplicate member name ${JSON.stringify(value)} at ${fieldOf(path) || "the top level"}`,
          );
        top.keys.add(value);
      }
      if (BAD_STRING.test(value))
        throw new IJsonViolation(
          "ERR_JSON_INVALID_STRING",
          fieldOf(path),
          `${isKey ? "Member name" : "String"} at ${fieldOf(path) || "the top level"} contains a lone surrogate or a noncharacter (not I-JSON, RFC 7493 §2.1)`,
        );
      i = end + 1;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      const token = text.slice(i, j);
      if (!roundTrips(token)) {
        const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
        const d = Number(token);
        const fate = Number.isFinite(d) ? `would be signed as ${String(d)}` : "is beyond the IEEE 754 double range";
        throw new IJsonViolation(
          "ERR_JSON_NUMBER_NOT_EXACT",
          fieldOf(path),
          `Number ${shown} at ${fieldOf(path) || "the top level"} ${fate}: it does not round-trip through an IEEE 754 double (I-JSON, RFC 7493 §2.2); send it as a string`,
        );
      }
      i = j;
    } else {
      i++; // whitespace, ':', true/false/null letters
    }
  }
}

function fieldOf(path: Array<string | number>): string {
  return path.join(".");
}

/** Index of the closing quote of the string opening at `start` (the text is valid JSON). */
function stringEnd(text: string, start: number): number {
  let j = text.indexOf('"', start + 1);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(j - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return j;
    j = text.indexOf('"', j + 1);
  }
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

/**
 * Whether the decimal number `token` (JSON syntax) has the same value as the RFC 8785 form of the
 * double it parses to — i.e. signing the parsed value signs the number that was sent.
 */
export function roundTrips(token: string): boolean {
  const digits = token.charCodeAt(0) === 0x2d ? token.length - 1 : token.length;
  if (digits <= 15 && /^-?\d+$/.test(token)) return true; // integers below 10^15: always exact
  const d = Number(token);
  if (!Number.isFinite(d)) return false;
  const shortest = String(d); // ECMAScript Number::toString, which RFC 8785 uses
  return shortest === token || decimalKey(shortest) === decimalKey(token);
}

/** A normal form of a decimal number's value: sign, significant digits, exponent ("-12e3"; zero is "0"). */
function decimalKey(token: string): string {
  const negative = token.startsWith("-");
  const body = negative ? token.slice(1) : token;
  const e = body.search(/[eE]/);
  const mantissa = e < 0 ? body : body.slice(0, e);
  let exponent = e < 0 ? 0 : Number(body.slice(e + 1));
  const dot = mantissa.indexOf(".");
  let significant = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  if (dot >= 0) exponent -= mantissa.length - dot - 1;
  significant = significant.replace(/^0+/, "");
  if (significant === "") return "0";
  const trimmed = significant.replace(/0+$/, "");
  exponent += significant.length - trimmed.length;
  return `${negative ? "-" : ""}${trimmed}e${exponent}`;
}
