/**
 * Where timestamp tokens over checkpoints are kept. Store-agnostic: the server keeps them in its
 * database (`KyselyTimestampStore`, server/log/storage/timestamp-tokens.ts, migration 005);
 * `MemoryTimestampStore` is the reference implementation (and the tests').
 */
import { createHash } from "node:crypto";
import { parseCheckpoint } from "../../../verifier/src/formats/index.js";

/** One verified token over one checkpoint text. */
export interface CheckpointTimestamp {
  /** The TSA asked (a KAKUNIN_TSA_URLS item). */
  tsaUrl: string;
  /** DER TimeStampToken (what receipts v2 carry as `timestamps[]`, base64). */
  token: Uint8Array;
  genTime: Date;
  /** TSTInfo serialNumber, lowercase hex; with tsaUrl it identifies the token. */
  serialNumber: string;
  policy: string;
  tsaName: string;
}

/** A checkpoint, by the text that was timestamped. */
export interface StampedCheckpoint {
  origin: string;
  size: number;
  /** The checkpoint note body exactly as timestamped (imprint = SHA-256 of it). */
  text: string;
  tokens: CheckpointTimestamp[];
}

export interface CheckpointTimestampStore {
  /**
   * Adds tokens obtained for `checkpointText`. Idempotent per (text, tsaUrl, serialNumber); never
   * replaces or removes a token already stored.
   */
  add(checkpointText: string, tokens: readonly CheckpointTimestamp[]): Promise<void>;
  /** The tokens stored for exactly this checkpoint text (empty when none). */
  tokensFor(checkpointText: string): Promise<CheckpointTimestamp[]>;
  /**
   * The smallest stamped checkpoint of `origin` whose tree contains leaf `leafIndex` (size > leafIndex):
   * the earliest proof of existence for that entry, since every later checkpoint covers it too.
   */
  firstCovering(origin: string, leafIndex: number): Promise<StampedCheckpoint | undefined>;
  /** The largest stamped checkpoint of `origin` (what `…/checkpoint.tsr` serves), undefined when none. */
  latestStamped(origin: string): Promise<StampedCheckpoint | undefined>;
}

/** SHA-256 of the text, hex: the key a table would use (the text itself may be long). */
export function checkpointKey(checkpointText: string): string {
  return createHash("sha256").update(checkpointText, "utf8").digest("hex");
}

/** In-process store (development, tests). Holds tokens until the process exits. */
export class MemoryTimestampStore implements CheckpointTimestampStore {
  readonly #byKey = new Map<string, StampedCheckpoint>();

  async add(checkpointText: string, tokens: readonly CheckpointTimestamp[]): Promise<void> {
    if (tokens.length === 0) return;
    const key = checkpointKey(checkpointText);
    let stamped = this.#byKey.get(key);
    if (!stamped) {
      const cp = parseCheckpoint(checkpointText);
      stamped = { origin: cp.origin, size: cp.size, text: checkpointText, tokens: [] };
      this.#byKey.set(key, stamped);
    }
    for (const t of tokens) {
      if (!stamped.tokens.some((s) => s.tsaUrl === t.tsaUrl && s.serialNumber === t.serialNumber))
        stamped.tokens.push({ ...t, token: new Uint8Array(t.token) });
    }
  }

  async tokensFor(checkpointText: string): Promise<CheckpointTimestamp[]> {
    return [...(this.#byKey.get(checkpointKey(checkpointText))?.tokens ?? [])];
  }

  async firstCovering(origin: string, leafIndex: number): Promise<StampedCheckpoint | undefined> {
    let best: StampedCheckpoint | undefined;
    for (const s of this.#byKey.values()) {
      if (s.origin === origin && s.size > leafIndex && (!best || s.size < best.size)) best = s;
    }
    return best && { ...best, tokens: [...best.tokens] };
  }

  async latestStamped(origin: string): Promise<StampedCheckpoint | undefined> {
    let best: StampedCheckpoint | undefined;
    for (const s of this.#byKey.values()) {
      if (s.origin === origin && (!best || s.size > best.size)) best = s;
    }
    return best && { ...best, tokens: [...best.tokens] };
  }
}
