/** The Merkle leaf of a v1 entry (FORMATS.md "Merkle tree leaves"): canonical bytes with `hash` and `sig`. */
import type { Bytes } from "./bytes.js";
import { utf8Encode } from "./bytes.js";
import { entryCanonicalText } from "./canonical.js";
import { VerificationError } from "./errors.js";
import { hashLeaf } from "./merkle.js";

/**
 * Leaf data of an entry: its canonical text (JCS without `hash` and `sig`) with
 * `,"hash":"…","sig":"…"` put before the closing brace — the entry exactly as the server writes it
 * in an export line — so the tree commits to the signature too. Any serialisation of the same entry
 * gives the same bytes.
 */
export function entryLeafData(entry: Record<string, unknown>): Bytes {
  const { hash, sig } = entry;
  if (typeof hash !== "string" || typeof sig !== "string")
    throw new VerificationError("ERR_NOTE_FORMAT", "entry needs string hash and sig", { field: "entry" });
  return utf8Encode(entryLeafText(entryCanonicalText(entry), hash, sig));
}

/**
 * The leaf data as text, from an entry's canonical text (JCS without `hash` and `sig`) and those
 * two members: what {@link entryLeafData} encodes (the export verifier's workers hash it directly).
 */
export function entryLeafText(canonical: string, hash: string, sig: string): string {
  return `${canonical.slice(0, -1)},"hash":${JSON.stringify(hash)},"sig":${JSON.stringify(sig)}}`;
}

/** RFC 9162 leaf hash of an entry. */
export function entryLeafHash(entry: Record<string, unknown>): Promise<Bytes> {
  return hashLeaf(entryLeafData(entry));
}
