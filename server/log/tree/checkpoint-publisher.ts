/**
 * Log v2 checkpoint publisher: after the tree grows, signs a C2SP tlog-checkpoint (origin
 * `<KAKUNIN_LOG_NAME>/<issuer>`, size, base64 root) as a signed note with the Ed25519 checkpoint
 * key in KMS (ED25519_SHA_512, MessageType RAW over the note text) — at most once per `intervalMs`
 * per issuer — and stores it (tree_checkpoints). Readers get the latest stored note, never a KMS call.
 */
import type { Kysely } from "kysely";
import { formatCheckpoint, signNote, type Checkpoint } from "../../../verifier/src/formats/index.js";
import { logOrigin, type CheckpointKey } from "./log-key.js";
import { TreeNodeStore, type TreeTables } from "./node-store.js";

interface CheckpointTables extends TreeTables {
  tree_checkpoints: { issuer_id: string; size: number | string; note: string; created_at: string };
}

export interface TreeCheckpointPublisherOptions {
  db: Kysely<any>;
  /** Signs the note text inside KMS (KeyCustody.signEd25519; bounded by the KMS call deadline). */
  signer: { signEd25519(arn: string, message: Uint8Array): Promise<Uint8Array> };
  key: CheckpointKey;
  logName: string;
  /** At most one new checkpoint per issuer per this many ms (KAKUNIN_CHECKPOINT_INTERVAL_MS; 0 = after every integration). */
  intervalMs: number;
  now: () => Date;
  onError?: (e: unknown, issuerId: string) => void;
}

export class TreeCheckpointPublisher {
  private readonly lastSigned = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly o: TreeCheckpointPublisherOptions) {}

  private get db(): Kysely<CheckpointTables> {
    return this.o.db as Kysely<CheckpointTables>;
  }

  /** The tree of `issuerId` grew: publish a checkpoint of it now, or once the interval since the last one has passed. */
  notify(issuerId: string, atLeastMs = 0): void {
    if (this.closed || this.timers.has(issuerId)) return;
    const wait = Math.max(atLeastMs, (this.lastSigned.get(issuerId) ?? -Infinity) + this.o.intervalMs - Date.now());
    const t = setTimeout(() => {
      this.timers.delete(issuerId);
      if (this.running.has(issuerId)) return this.notify(issuerId, 50); // after the running one
      const p = this.publish(issuerId).then(() => undefined, (e: unknown) => {
        this.o.onError?.(e, issuerId);
        // KMS down or slow: the tree head still needs a checkpoint even if nothing more is appended.
        this.notify(issuerId, Math.max(1000, this.o.intervalMs));
      }).finally(() => this.running.delete(issuerId));
      this.running.set(issuerId, p);
    }, wait);
    t.unref();
    this.timers.set(issuerId, t);
  }

  /** Signs and stores a checkpoint of the tree's current size, unless one is stored already; returns the latest note. */
  async publish(issuerId: string): Promise<string | undefined> {
    const head = await new TreeNodeStore(this.o.db as Kysely<TreeTables>, issuerId).head();
    if (!head) return this.latest(issuerId);
    const stored = await this.latestRow(issuerId);
    if (stored && Number(stored.size) >= head.size) return stored.note;
    this.lastSigned.set(issuerId, Date.now());
    const origin = logOrigin(this.o.logName, issuerId);
    const text = formatCheckpoint({ origin, size: head.size, root: head.root as Checkpoint["root"], extensions: [] });
    const note = await signNote(text, origin, this.o.key.publicKey, (m) => this.o.signer.signEd25519(this.o.key.arn, m));
    // Another instance may have signed this size first: both notes are valid; the first stored stays.
    await this.db.insertInto("tree_checkpoints").values({ issuer_id: issuerId, size: head.size, note, created_at: this.o.now().toISOString() })
      .onConflict((oc) => oc.columns(["issuer_id", "size"]).doNothing()).execute();
    return this.latest(issuerId);
  }

  /** Start-up: every issuer's tree gets a checkpoint of its size if it has none yet (a crash between integration and signing). */
  async catchUp(): Promise<void> {
    const rows = await this.db.selectFrom("tree_heads").select("issuer_id").execute();
    for (const r of rows) this.notify(r.issuer_id);
  }

  /** The latest stored signed note of `issuerId`'s log, or undefined before the first. */
  async latest(issuerId: string): Promise<string | undefined> {
    return (await this.latestRow(issuerId))?.note;
  }

  /** Stops scheduling and waits for running publications. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private latestRow(issuerId: string) {
    return this.db.selectFrom("tree_checkpoints").select(["size", "note"]).where("issuer_id", "=", issuerId)
      .orderBy("size", "desc").limit(1).executeTakeFirst();
  }
}
