/** RFC 7468 PEM helpers. Input is attacker-controlled: labels and base64 are checked strictly. */
import { malformed } from "./errors.js";
import { base64Decode, base64Encode, type Bytes } from "./bytes.js";

/** One decoded PEM block. */
export interface PemBlock {
  label: string;
  der: Bytes;
}

// Bounded quantifiers keep the regex linear on hostile input.
const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----([A-Za-z0-9+/=\r\n\t ]*?)-----END ([A-Z0-9 ]{1,64})-----/g;

/** All PEM blocks in `text`, in order. Throws ERR_MALFORMED if there is none or one is broken. */
export function pemDecodeAll(text: string, field = "pem"): PemBlock[] {
  if (typeof text !== "string") throw malformed(`${field} is not a string`, { field });
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    if (m[1] !== m[3]) throw malformed(`${field}: PEM labels differ (${m[1]} / ${m[3]})`, { field });
    blocks.push({ label: m[1]!, der: base64Decode(m[2]!, field, true) });
  }
  if (blocks.length === 0) throw malformed(`${field} contains no PEM block`, { field });
  return blocks;
}

/** The single PEM block with `label` (e.g. `CERTIFICATE`). */
export function pemDecode(text: string, label: string, field = "pem"): Bytes {
  const blocks = pemDecodeAll(text, field);
  const block = blocks[0]!;
  if (block.label !== label) throw malformed(`${field}: expected PEM ${label}, got ${block.label}`, { field });
  return block.der;
}

/** Encodes DER as PEM with 64-character lines. */
export function pemEncode(der: Uint8Array, label: string): string {
  const b64 = base64Encode(der);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Accepts a PEM (with `label`) or bare base64 DER, as CRLs are often passed either way. */
export function pemOrBase64Der(text: string, label: string, field = "pem"): Bytes {
  if (typeof text !== "string") throw malformed(`${field} is not a string`, { field });
  if (text.includes("-----BEGIN")) return pemDecode(text, label, field);
  return base64Decode(text.trim(), field, true);
}
