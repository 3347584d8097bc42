/**
 * Log v2 checkpoint publisher: after an issuer's tree grows, signs a C2SP tlog-checkpoint (origin
 * `<KAKUNIN_LOG_NAME>/<issuer>`, size, base64 root) as a signed note with the Ed25519 log key in
 * KMS (ED25519_SHA_512, MessageType RAW over the note text) — at most once per `intervalMs` per
 * issuer — stores it through the LogStore and hands it to every hook (witnesses, timestamps).
 * Readers get stored notes only; they never wait on KMS.
 */
import { formatCheckpoint, signNote, type Bytes } from "../../../verifier/src/formats/index.js";
import type { LogStore } from "../storage/log-store.js";
import type { CheckpointHook, SignedCheckpoint } from "./checkpoint-hooks.js";
import { logOrigin, type CheckpointKeys } from "./log-key.js";

/** After a failed signature (KMS down or slow), try again after this long at least. */
const RETRY_MS = 1000;

export interface TreeCheckpointPublisherOptions {
  store: LogStore;
  /** Signs the note text inside KMS (KeyCustody.signEd25519, bounded by the KMS call deadline). */
  signer: { signEd25519(arn: string, message: Uint8Array): Promise<Uint8Array> };
  /** Read at every publication: a log key rotated by any instance signs the next checkpoint. */
  keys: CheckpointKeys;
  logName: string;
  /** At most one new checkpoint per issuer per this many ms (KAKUNIN_CHECKPOINT_INTERVAL_MS; 0: after every growth). */
  intervalMs: number;
  hooks: CheckpointHook[];
  now: () => Date;
  logger?: { warn(o: object, msg: string): void };
  /** Why nothing may be signed for an issuer now (the fork guard's freeze), or undefined. */
  refuse?: (issuerId: string) => Promise<string | undefined>;
}

export class TreeCheckpointPublisher {
  private readonly lastSigned = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly o: TreeCheckpointPublisherOptions) {
    o.store.onTreeGrew((issuerId) => this.notify(issuerId));
  }

  /** The tree of `issuerId` grew: publish a checkpoint of it now, or once the interval since the last one has passed. */
  notify(issuerId: string, atLeastMs = 0): void {
    if (this.closed || this.timers.has(issuerId)) return;
    const wait = Math.max(atLeastMs, (this.lastSigned.get(issuerId) ?? -Infinity) + this.o.intervalMs - Date.now());
    const t = setTimeout(
      () => {
        this.timers.delete(issuerId);
        if (this.running.has(issuerId)) return this.notify(issuerId, 20);
        const p = this.publish(issuerId)
          .then(
            () => undefined,
            (e: unknown) => {
              this.o.logger?.warn({ err: e, issuer: issuerId }, "tree checkpoint publication failed");
              this.notify(issuerId, Math.max(RETRY_MS, this.o.intervalMs));
            },
          )
          .finally(() => this.running.delete(issuerId));
        this.running.set(issuerId, p);
      },
      Math.max(0, wait),
    );
    t.unref();
    this.timers.set(issuerId, t);
  }

  /** Signs and stores a checkpoint of the tree's current (durable) size unless one is stored; returns the latest. */
  async publish(issuerId: string): Promise<SignedCheckpoint | undefined> {
    const { store } = this.o;
    await store.flushed(); // never sign a size a power loss could take back
    const head = await store.treeNodes(issuerId).head();
    const latest = await store.latestTreeCheckpoint(issuerId);
    if (!head || head.size === 0 || (latest && latest.size >= head.size)) return latest;
    if (await this.o.refuse?.(issuerId)) return latest; // a frozen tree is not the published one: sign nothing of it
    this.lastSigned.set(issuerId, Date.now());
    const origin = logOrigin(this.o.logName, issuerId);
    const body = formatCheckpoint({ origin, size: head.size, root: head.root as Bytes, extensions: [] });
    // The current key, read now: after a rotation (here or in another instance) the old key is
    // disabled in KMS, so a stale one would only fail (DisabledException) and be retried.
    const key = await this.o.keys.current();
    const note = await signNote(body, origin, key.publicKey, (m) => this.o.signer.signEd25519(key.arn, m));
    // Another instance may have signed this size first: both are valid; the first stored stays.
    const stored = await store.storeTreeCheckpoint(issuerId, head.size, note, this.o.now().toISOString());
    const cp = await store.treeCheckpointAt(issuerId, head.size);
    if (stored && cp) for (const h of this.o.hooks) this.callHook(h, cp);
    return cp;
  }

  /** Start-up: every tree gets a checkpoint of its size if it has none yet (a crash between commit and signing). */
  async catchUp(): Promise<void> {
    const signed = await this.o.store.treeCheckpointSizes();
    for (const t of await this.o.store.treeLag())
      if (t.treeSize > 0 && (signed.get(t.issuerId) ?? 0) < t.treeSize) this.notify(t.issuerId);
  }

  /** Stops scheduling and waits for running publications. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }

  private callHook(h: CheckpointHook, cp: SignedCheckpoint): void {
    try {
      h.onCheckpoint(cp);
    } catch (e) {
      this.o.logger?.warn({ err: e, hook: h.name, issuer: cp.issuerId }, "checkpoint hook threw");
    }
  }
}
