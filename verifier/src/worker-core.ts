/**
 * The per-line work of export verification, meant to run inside a worker (Node worker_threads or a
 * browser Web Worker): parse a line → canonicalise → SHA-256 → verify the RSA signature with a
 * cached key. pkijs-free and I/O-free. Order and link checks stay on the main thread.
 */
import { KeyCache, verifyRsa, type SigningAlgorithm } from "./crypto.js";
import { malformed, VerificationError } from "./errors.js";
import { parseEntry, type EntryFields } from "./parse/entry.js";
import { parseEntryLineFast } from "./parse/entry-fast.js";
import { parseStrictJson } from "./parse/strict-json.js";
import { B64, isObject, int, type Json } from "./parse/fields.js";
import { base64Decode, type Bytes } from "./formats/bytes.js";
import { canonicalBytes, entryCanonicalText } from "./formats/canonical.js";
import { sha256Hex } from "./formats/hash.js";
import { entryLeafText } from "./formats/leaf.js";
import { hashLeaf } from "./formats/merkle.js";
import { utf8Encode } from "./formats/bytes.js";

/** Longest line accepted (1 MiB); longer lines are ERR_MALFORMED without being parsed. */
export const MAX_LINE_LENGTH = 1 << 20;

/** Signer public keys: certificate serial (lowercase hex) → SubjectPublicKeyInfo DER. */
export type KeyTable = ReadonlyMap<string, Uint8Array>;

/** An `entry` line after the heavy work. */
export interface EntryLineResult {
  kind: "entry";
  entry: EntryFields;
  /** SHA-256 of the canonical bytes, as recomputed. */
  computedHash: string;
  /** computedHash === entry.hash */
  hashOk: boolean;
  /** Signature verdict; null when the signer's key is not in the key table. */
  sigOk: boolean | null;
  /**
   * RFC 9162 leaf hash of the entry (FORMATS.md "Merkle tree leaves"), for the export's tree
   * (checks/tree); absent from pools that do not compute it (the tree is then not recomputed).
   */
  leafHash?: Uint8Array;
  /**
   * Set (> 0) when a Node worker has folded the entry into the largest perfect subtree of its block
   * ending at it (node/compact.ts): `leafHash` is then that subtree's root, of 2^treeHeight leaves.
   */
  treeHeight?: number;
}
/** A `payload` line: its seq and the SHA-256 of its content (JCS bytes for json, raw for base64). */
export interface PayloadLineResult {
  kind: "payload";
  seq: number;
  hash: string;
}
/** Any other kind: the parsed object, handled by the main thread (checkpoint, misplaced header…). */
export interface OtherLineResult {
  kind: "other";
  value: Json;
}
/** The line could not be parsed or failed a shape check. */
export interface MalformedLineResult {
  kind: "malformed";
  message: string;
  field?: string;
}
/** An empty (or whitespace-only) line inside a block: skipped, but it counts for line numbers. */
export interface BlankLineResult {
  kind: "blank";
}
export type LineResult = EntryLineResult | PayloadLineResult | OtherLineResult | MalformedLineResult | BlankLineResult;

/**
 * Parses one export line (attacker-controlled) as a JSON object, bounded in length and depth, with
 * no duplicate member names (RFC 7493). Throws ERR_MALFORMED.
 */
export function parseLine(line: string): Json {
  if (line.length > MAX_LINE_LENGTH)
    throw malformed(`line longer than ${MAX_LINE_LENGTH} characters`, { field: "(line)" });
  const value = parseStrictJson(line);
  if (!isObject(value)) throw malformed("line is not a JSON object", { field: "(line)" });
  if (typeof value.kind !== "string") throw malformed("line has no string `kind`", { field: "kind" });
  return value;
}

/**
 * The hashing and RSASSA-PSS verification a {@link LineVerifier} uses. Default: WebCrypto (browsers,
 * Node). A host may pass a faster implementation, e.g. the Node CLI's workers use synchronous
 * `node:crypto` (`src/node/node-crypto.ts`), which avoids WebCrypto's per-call overhead.
 */
export interface LineCrypto {
  /** Lowercase hex SHA-256. */
  sha256Hex(bytes: Bytes): string | Promise<string>;
  /**
   * RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) over `message` with the key `spki` (SubjectPublicKeyInfo
   * DER, identified by `serial` for caching). False on a bad signature or an unusable key; never throws.
   */
  verifyPss(spki: Bytes, serial: string, message: Bytes, signature: Bytes): boolean | Promise<boolean>;
  /** Drops cached keys (the key table changed). */
  clear?(): void;
  /** Optional synchronous RFC 9162 leaf hash: SHA-256(0x00 ‖ UTF-8 of `text`); default WebCrypto. */
  leafHash?(text: string): Bytes;
  /**
   * Optional faster decoder for a signature already known to be strict padded base64 (e.g. Node's
   * Buffer); the default is the portable `base64Decode`.
   */
  decodeBase64?(b64: string): Bytes;
  /**
   * Optional one-call path for an entry (e.g. the CLI's native OpenSSL addon): SHA-256 of the UTF-8
   * of `canonical` compared with `hashHex`, and the RSASSA-PSS check of `sigB64` (strict padded
   * base64, attacker-controlled) over it under `spki` (undefined: no usable key, the signature
   * bit stays 0). Returns {@link ENTRY_HASH_OK} | {@link ENTRY_SIG_OK} | {@link ENTRY_SIG_MALFORMED}
   * bits; never throws on bad input.
   */
  verifyEntry?(
    spki: Bytes | undefined,
    serial: string,
    canonical: string,
    hashHex: string,
    sigB64: string,
    leafOut?: Uint8Array,
  ): number;
  /** A short name for reports, e.g. "node:crypto" or "OpenSSL 3.0.19 (native)". */
  readonly name?: string;
}

/** {@link LineCrypto.verifyEntry} bit: the recomputed hash equals the entry's `hash`. */
export const ENTRY_HASH_OK = 1;
/** {@link LineCrypto.verifyEntry} bit: the signature verifies. */
export const ENTRY_SIG_OK = 2;
/** {@link LineCrypto.verifyEntry} bit: `sigB64` is not strict padded base64 (or too long to judge). */
export const ENTRY_SIG_MALFORMED = 4;
/** {@link LineCrypto.verifyEntry} bit: `leafOut` (32 bytes) now holds the entry's RFC 9162 leaf hash. */
export const ENTRY_LEAF_OK = 8;

/** Does the per-line work with keys cached across calls. One instance per worker. */
export class LineVerifier {
  #spki = new Map<string, Bytes>();
  #cache = new KeyCache();
  #crypto: LineCrypto | undefined;
  /** Where a host's one-call verifyEntry writes an entry's leaf hash. */
  #leafOut = new Uint8Array(32);

  /** `crypto`: an alternative to WebCrypto for hashing and verifying (see {@link LineCrypto}). */
  constructor(keys?: KeyTable, crypto?: LineCrypto) {
    this.#crypto = crypto;
    if (keys) this.setKeys(keys);
  }

  /** Replaces the key table (call once per export, before the entry lines). */
  setKeys(keys: KeyTable): void {
    this.#spki = new Map([...keys].map(([serial, der]) => [serial, new Uint8Array(der) as Bytes]));
    this.#cache.clear();
    this.#crypto?.clear?.();
  }

  #sha256(bytes: Bytes): string | Promise<string> {
    return this.#crypto ? this.#crypto.sha256Hex(bytes) : sha256Hex(bytes);
  }

  async #key(serial: string, alg: SigningAlgorithm): Promise<CryptoKey | null> {
    const spki = this.#spki.get(serial);
    return spki ? this.#cache.get(spki, alg, serial) : null;
  }

  /** Verifies the signature of a parsed entry or checkpoint under the key table. */
  async verifySigned(message: Bytes, signerSerial: string, alg: string, sigB64: string): Promise<boolean | null> {
    if (this.#crypto) return this.#verifyHost(this.#crypto, message, signerSerial, alg, sigB64, false);
    if (alg !== "RSASSA_PSS_SHA_256") return false; // FORMATS.md: entries and checkpoints are PSS only.
    const key = await this.#key(signerSerial, alg);
    if (!key) return this.#spki.has(signerSerial) ? false : null;
    let sig: Bytes;
    try {
      sig = base64Decode(sigB64, "sig");
    } catch {
      return false;
    }
    return verifyRsa(key, alg, message, sig);
  }

  /** verifySigned with the host's LineCrypto, synchronous when it is. `b64Checked`: sigB64 already passed B64. */
  #verifyHost(
    c: LineCrypto,
    message: Bytes,
    signerSerial: string,
    alg: string,
    sigB64: string,
    b64Checked: boolean,
  ): boolean | null | Promise<boolean> {
    if (alg !== "RSASSA_PSS_SHA_256") return false; // FORMATS.md: entries and checkpoints are PSS only.
    const spki = this.#spki.get(signerSerial);
    if (!spki) return null;
    let sig: Bytes;
    try {
      sig = c.decodeBase64 && (b64Checked || B64.test(sigB64)) ? c.decodeBase64(sigB64) : base64Decode(sigB64, "sig");
    } catch {
      return false;
    }
    return c.verifyPss(spki, signerSerial, message, sig);
  }

  /**
   * verifyLine with a host LineCrypto: no promise per line when the crypto answers synchronously
   * (the Node workers), which saves the async machinery and its garbage on the hot path.
   */
  #verifyLineHost(c: LineCrypto, line: string): LineResult | Promise<LineResult> {
    try {
      if (c.verifyEntry && line.length <= MAX_LINE_LENGTH) {
        const fast = parseEntryLineFast(line);
        if (fast) {
          const r = this.#verifyEntryOneCall(c, fast.entry, fast.canonical);
          if (r) return r; // else the signature text is not base64: the general path reports it
        }
      }
      const value = parseLine(line);
      if (value.kind !== "entry") return this.verifyLine(line);
      const entry = parseEntry(value.entry, "entry");
      if (c.verifyEntry) {
        const r = this.#verifyEntryOneCall(c, entry, entryCanonicalText(value.entry as Json));
        if (r) return r;
      }
      const text = entryCanonicalText(value.entry as Json);
      const bytes = utf8Encode(text);
      const computedHash = c.sha256Hex(bytes);
      const sigOk = this.#verifyHost(c, bytes, entry.signer.cert, entry.signer.alg, entry.sig, true);
      const leaf = c.leafHash ? { leafHash: c.leafHash(entryLeafText(text, entry.hash, entry.sig)) } : {};
      if (typeof computedHash === "string" && (typeof sigOk === "boolean" || sigOk === null)) {
        return { kind: "entry", entry, computedHash, hashOk: computedHash === entry.hash, sigOk, ...leaf };
      }
      return Promise.all([computedHash, sigOk]).then(
        ([h, ok]): LineResult => ({
          kind: "entry",
          entry,
          computedHash: h,
          hashOk: h === entry.hash,
          sigOk: ok,
          ...leaf,
        }),
        (e: unknown) => malformedResult(e),
      );
    } catch (e) {
      return malformedResult(e);
    }
  }

  /** An entry through {@link LineCrypto.verifyEntry}: hash and signature in one call, no bytes in JavaScript. */
  #verifyEntryOneCall(c: LineCrypto, entry: EntryFields, text: string): EntryLineResult | undefined {
    const spki = this.#spki.get(entry.signer.cert);
    const pss = entry.signer.alg === "RSASSA_PSS_SHA_256"; // FORMATS.md: entries are PSS only.
    const leaf = this.#leafOut;
    const bits = c.verifyEntry!(pss ? spki : undefined, entry.signer.cert, text, entry.hash, entry.sig, leaf);
    if (bits & ENTRY_SIG_MALFORMED) return undefined;
    const hashOk = (bits & ENTRY_HASH_OK) !== 0;
    // The recomputed hash itself is not needed by the main thread (only whether it matches).
    return {
      kind: "entry",
      entry,
      computedHash: hashOk ? entry.hash : "",
      hashOk,
      sigOk: !pss ? false : spki ? (bits & ENTRY_SIG_OK) !== 0 : null,
      ...(bits & ENTRY_LEAF_OK
        ? { leafHash: leaf.slice() }
        : c.leafHash
          ? { leafHash: c.leafHash(entryLeafText(text, entry.hash, entry.sig)) }
          : {}),
    };
  }

  /**
   * A block of whole lines ("\n"-separated; a final "\n" ends the last line, it does not start
   * another). One result per line, blank lines included, so the caller can number them.
   */
  verifyBlockText(text: string): Promise<LineResult[]> {
    const lines = text.split("\n");
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    const results: (LineResult | Promise<LineResult>)[] = new Array(lines.length);
    let async = false;
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      if (line.endsWith("\r")) line = line.slice(0, -1);
      const r: LineResult | Promise<LineResult> =
        line.trim() === ""
          ? { kind: "blank" }
          : this.#crypto
            ? this.#verifyLineHost(this.#crypto, line)
            : this.verifyLine(line);
      if (r instanceof Promise) async = true;
      results[i] = r;
    }
    return async ? Promise.all(results) : Promise.resolve(results as LineResult[]);
  }

  /** Processes one line. Never throws: problems come back as `malformed`. */
  async verifyLine(line: string): Promise<LineResult> {
    try {
      const value = parseLine(line);
      if (value.kind === "entry") {
        const entry = parseEntry(value.entry, "entry");
        const text = entryCanonicalText(value.entry as Json);
        const bytes = utf8Encode(text);
        const computedHash = await this.#sha256(bytes);
        const sigOk = await this.verifySigned(bytes, entry.signer.cert, entry.signer.alg, entry.sig);
        const leafText = entryLeafText(text, entry.hash, entry.sig);
        const leafHash = this.#crypto?.leafHash
          ? this.#crypto.leafHash(leafText)
          : await hashLeaf(utf8Encode(leafText));
        return { kind: "entry", entry, computedHash, hashOk: computedHash === entry.hash, sigOk, leafHash };
      }
      if (value.kind === "payload") {
        const seq = int(value, "seq", "payload");
        if (typeof value.base64 === "string")
          return { kind: "payload", seq, hash: await this.#sha256(base64Decode(value.base64, "payload.base64")) };
        if ("json" in value) return { kind: "payload", seq, hash: await this.#sha256(canonicalBytes(value.json)) };
        throw malformed("payload line has neither json nor base64", { field: "payload.json" });
      }
      return { kind: "other", value };
    } catch (e) {
      return malformedResult(e);
    }
  }

  /** Processes a batch concurrently (WebCrypto work overlaps); results in input order. */
  verifyLines(lines: readonly string[]): Promise<LineResult[]> {
    const c = this.#crypto;
    if (!c) return Promise.all(lines.map((l) => this.verifyLine(l)));
    const results = lines.map((l) => this.#verifyLineHost(c, l));
    for (const r of results) if (r instanceof Promise) return Promise.all(results);
    return Promise.resolve(results as LineResult[]);
  }
}

/**
 * Decodes a block of whole lines as strict UTF-8 and verifies it. When the block holds invalid
 * UTF-8, each line is decoded on its own and only the bad ones are malformed (never U+FFFD).
 */
export async function verifyBlockBytes(
  v: LineVerifier,
  bytes: Uint8Array,
  decoder: TextDecoder,
): Promise<LineResult[]> {
  try {
    return await v.verifyBlockText(decoder.decode(bytes));
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
  }
  const out: LineResult[] = [];
  for (let start = 0; start < bytes.length;) {
    let nl = bytes.indexOf(10, start);
    if (nl < 0) nl = bytes.length;
    const piece = bytes.subarray(start, nl);
    let text: string | undefined;
    try {
      text = decoder.decode(piece);
    } catch {
      text = undefined;
    }
    if (text === undefined) out.push({ kind: "malformed", message: "line is not valid UTF-8", field: "(line)" });
    else out.push(...(await v.verifyBlockText(`${text}\n`)));
    start = nl + 1;
  }
  return out;
}

function malformedResult(e: unknown): MalformedLineResult {
  if (e instanceof VerificationError)
    return { kind: "malformed", message: e.message, ...(e.field ? { field: e.field } : {}) };
  return { kind: "malformed", message: `unexpected: ${String(e)}` };
}
