/**
 * A fast path for the common export line: an `agent.operation` entry exactly as the server writes
 * it (FORMATS.md: the entry's keys in JCS order, then `hash` and `sig`; strings with nothing to
 * escape). One anchored regular expression both validates the line and yields the entry's
 * canonical bytes as a substring, with no JSON.parse and no re-serialisation.
 *
 * The line is attacker-controlled. The contract with the general path (parseLine → parseEntry →
 * entryCanonicalText) is: whenever this returns a result, the general path would have returned the
 * same fields and the same canonical text; anything else (other key orders, whitespace, escapes,
 * lifecycle details, extra fields, any doubt) returns undefined and takes the general path. That
 * is why it is safe:
 * - keys are fixed and in JCS order, so no key is missing, duplicated or out of order;
 * - strings exclude `"`, `\`, U+0000–U+001F, U+2028/9 and surrogates, so the raw text is what
 *   JCS writes and what `.` in parseEntry's patterns accepts;
 * - an operation's optional `details` may only be `{"contentType": "…"}` (what the server writes);
 *   parseEntry keeps no details for operations, so the fields are the same with or without it;
 * - `seq` is a canonical integer of at most 15 digits (a safe integer JCS writes the same way);
 * - hashes, serial, type and time use parseEntry's own patterns;
 * - `sig` is everything between `"sig":"` and the closing `"}}`, NOT yet validated: the caller
 *   must check it is strict padded base64 (which excludes `"`, so the string ends there) and take
 *   the general path otherwise. The verifier's native addon does so while decoding it.
 * The expression is unambiguous (each string ends at its quote), so it runs in linear time.
 */
import { isLifecycleType } from "../formats/wire.js";
import type { EntryFields } from "./entry.js";
import { canonicalPadding } from "./fields.js";

/** A string character JCS writes as is and parseEntry's `.` accepts (a RegExp source fragment). */
const C = '[^"\\\\\\u0000-\\u001f\\u2028\\u2029\\uD800-\\uDFFF]';

const ENTRY_LINE = new RegExp(
  '^\\{"kind":"entry","entry":(\\{' +
    `"agent":"(${C}{1,256})",` +
    `(?:"details":\\{"contentType":"${C}*"\\},)?` +
    `"issuer":"(${C}{1,256})",` +
    '"payloadHash":"([0-9a-f]{64})",' +
    '"prevHash":"([0-9a-f]{64})",' +
    '"seq":(0|[1-9][0-9]{0,14}),' +
    `"signer":\\{"alg":"(${C}*)","cert":"([0-9a-f]{1,64})","key":"(${C}*)"\\},` +
    '"time":"(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z)",' +
    '"type":"([a-z][a-z0-9._-]{0,63})",' +
    '"v":1),' +
    '"hash":"([0-9a-f]{64})",' +
    '"sig":"',
);
/** What follows the signature. */
const END = '"}}';

/** An entry line recognised by {@link parseEntryLineFast}. */
export interface FastEntry {
  entry: EntryFields;
  /** The entry's canonical text (JCS without `hash` and `sig`), as a substring of the line. */
  canonical: string;
}

/** The entry and its canonical text, or undefined when the general path must decide. */
export function parseEntryLineFast(line: string): FastEntry | undefined {
  const m = ENTRY_LINE.exec(line);
  if (!m || !line.endsWith(END)) return undefined;
  const type = m[11]!;
  if (isLifecycleType(type)) return undefined; // they need details: the general path
  const sig = line.slice(m[0].length, line.length - END.length);
  // Non-canonical padding bits (a re-spelled signature) are the general path's to reject.
  if (!canonicalPadding(sig)) return undefined;
  const time = Date.parse(m[10]!);
  if (!Number.isFinite(time)) return undefined;
  return {
    entry: {
      seq: Number(m[6]),
      time,
      type,
      issuer: m[3]!,
      agent: m[2]!,
      signer: { cert: m[8]!, key: m[9]!, alg: m[7]! },
      payloadHash: m[4]!,
      prevHash: m[5]!,
      hash: m[12]!,
      sig,
    },
    canonical: `${m[1]!}}`,
  };
}
