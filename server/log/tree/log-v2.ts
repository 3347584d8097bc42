/**
 * Log v2's read side and lifecycle, for routes, the tiles job and hooks: start-up catch-up, the
 * checkpoint publisher, signed-note checkpoints, C2SP tiles and entry bundles, proofs, verifier keys
 * and the tlog-proof of an entry. Everything here reads stored data; nothing waits on KMS.
 */
import {
  encodeEntryBundle,
  entryLeafData,
  formatTlogProof,
  formatVerifierKey,
  TILE_WIDTH,
  tileNodes,
  type Bytes,
  type Tile,
} from "../../../verifier/src/formats/index.js";
import { NotFoundError } from "../../errors.js";
import type { LogStore } from "../storage/log-store.js";
import { catchUpTrees } from "./catch-up.js";
import type { CheckpointHook, SignedCheckpoint } from "./checkpoint-hooks.js";
import { TreeCheckpointPublisher } from "./checkpoint-publisher.js";
import { logOrigin, type CheckpointKeys } from "./log-key.js";
import { TreeProofs } from "./proofs.js";
import { FullTileCache } from "./tile-cache.js";

/** How often a receipt waiting for a checkpoint looks again. */
const RECEIPT_POLL_MS = 50;

export interface LogV2Options {
  store: LogStore;
  signer: { signEd25519(arn: string, message: Uint8Array): Promise<Uint8Array> };
  /** The current checkpoint key and the older ones (read from the database at each use: rotations are picked up). */
  keys: CheckpointKeys;
  logName: string;
  intervalMs: number;
  hooks?: CheckpointHook[];
  /** every issuer's id (the authority's issuers table), for the verifier key list */
  issuerIds: () => Promise<string[]>;
  now: () => Date;
  logger?: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  /** The fork guard's freeze: nothing is signed for a frozen issuer. */
  refuse?: (issuerId: string) => Promise<string | undefined>;
}

export class LogV2 {
  readonly publisher: TreeCheckpointPublisher;
  readonly proofs: TreeProofs;
  readonly store: LogStore;
  /** Full hash tiles already read (immutable): see {@link cachedFullTile}. */
  readonly fullTiles = new FullTileCache();
  private readonly hooks: CheckpointHook[];

  constructor(private readonly o: LogV2Options) {
    this.store = o.store;
    this.hooks = [...(o.hooks ?? [])];
    this.proofs = new TreeProofs(o.store);
    this.publisher = new TreeCheckpointPublisher({
      store: o.store,
      signer: o.signer,
      keys: o.keys,
      logName: o.logName,
      intervalMs: o.intervalMs,
      hooks: this.hooks,
      now: o.now,
      ...(o.logger ? { logger: o.logger } : {}),
      ...(o.refuse ? { refuse: o.refuse } : {}),
    });
  }

  /** Register a checkpoint consumer (witnesses, timestamps) before `start`. */
  addHook(h: CheckpointHook): void {
    this.hooks.push(h);
  }

  /** Before appends are accepted: catch up trees that lag their chains, then sign what has no checkpoint yet. */
  async start(): Promise<void> {
    await catchUpTrees(this.o.store, this.o.logger);
    await this.publisher.catchUp();
  }

  close(): Promise<void> {
    return this.publisher.close();
  }

  /** Throws ERR_ISSUER_NOT_FOUND (404) unless the issuer exists. */
  async requireLog(issuerId: string): Promise<void> {
    if (!(await this.o.store.issuerExists(issuerId)))
      throw new NotFoundError(`Issuer ${issuerId} not found`, "ERR_ISSUER_NOT_FOUND");
  }

  origin(issuerId: string): string {
    return logOrigin(this.o.logName, issuerId);
  }

  /** Every issuer log with its published (checkpointed) size. */
  async logs(): Promise<{ issuer: string; origin: string; size: number }[]> {
    const sizes = await this.o.store.treeCheckpointSizes();
    const ids = await this.o.issuerIds();
    return ids.map((issuer) => ({ issuer, origin: this.origin(issuer), size: sizes.get(issuer) ?? 0 }));
  }

  /**
   * The signed-note verifier keys (the key name is the log's origin): per issuer log, the current key
   * first, then every older (rotated, disabled) key, newest first — checkpoints signed before a
   * rotation keep verifying.
   */
  async verifierKeys(): Promise<string[]> {
    const ids = await this.o.issuerIds();
    const keys = await this.o.keys.all();
    const lines = await Promise.all(
      ids.map((id) => Promise.all(keys.map((k) => formatVerifierKey(this.origin(id), k.publicKey)))),
    );
    return lines.flat();
  }

  latestCheckpoint(issuerId: string): Promise<SignedCheckpoint | undefined> {
    return this.o.store.latestTreeCheckpoint(issuerId);
  }

  /** The published tree size (latest checkpoint; 0 before the first). */
  private async publishedSize(issuerId: string): Promise<number> {
    return (await this.o.store.latestTreeCheckpoint(issuerId))?.size ?? 0;
  }

  /**
   * A full hash tile served before (immutable, so no store read and no size check: it was within
   * an existing issuer's published tree then, and published trees only grow), or undefined.
   */
  cachedFullTile(issuerId: string, t: Tile): Uint8Array | undefined {
    return this.fullTiles.get(issuerId, t);
  }

  /** A hash tile's bytes, or undefined when it lies beyond the published tree. */
  async hashTile(issuerId: string, t: Tile & { level: number }): Promise<Uint8Array | undefined> {
    const cached = this.fullTiles.get(issuerId, t);
    if (cached) return cached;
    const hashes = Math.floor((await this.publishedSize(issuerId)) / TILE_WIDTH ** t.level);
    if (t.index * TILE_WIDTH + t.width > hashes) return undefined;
    const nodes = await this.o.store.treeNodes(issuerId).readNodes(tileNodes(t));
    const out = new Uint8Array(nodes.length * 32);
    nodes.forEach((n, i) => out.set(n, i * 32));
    this.fullTiles.set(issuerId, t, out);
    return out;
  }

  /** An entry bundle (each entry's leaf data, FORMATS.md "Merkle tree leaves"), or undefined beyond the published tree. */
  async entryBundle(issuerId: string, t: Tile): Promise<Uint8Array | undefined> {
    const from = t.index * TILE_WIDTH;
    if (from + t.width > (await this.publishedSize(issuerId))) return undefined;
    const entries = await this.o.store.entries(issuerId, from, from + t.width - 1);
    if (entries.length !== t.width) return undefined;
    return encodeEntryBundle(entries.map((e) => entryLeafData(e as unknown as Record<string, unknown>)));
  }

  /**
   * The c2sp.org/tlog-proof@v1 text of entry `seq`: its inclusion proof in the latest checkpoint and
   * that checkpoint's note verbatim — waiting up to `waitMs` for a checkpoint to cover it. Undefined if none does.
   */
  async entryProof(
    issuerId: string,
    seq: number,
    waitMs = 0,
  ): Promise<{ proof: string; checkpoint: SignedCheckpoint } | undefined> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const cp = await this.o.store.latestTreeCheckpoint(issuerId);
      if (cp && cp.size > seq) {
        const proof = (await this.proofs.inclusionProof(issuerId, seq, cp.size)) as Bytes[];
        return { proof: formatTlogProof({ index: seq, proof, checkpoint: cp.note }), checkpoint: cp };
      }
      if (Date.now() >= deadline) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(RECEIPT_POLL_MS, Math.max(1, deadline - Date.now()))));
    }
  }
}
