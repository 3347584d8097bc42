/**
 * AuditLog: the log's facade for routes and the lifecycle code — append (operations and lifecycle
 * entries), read, checkpoints, export and payload erasure. The appending machinery lives in
 * appender.ts (sequencer → signer → committer → checkpoint publisher); the tables behind a LogStore
 * (storage/). A LogGuard (guard.ts; the fork guard) is asked before anything is appended or
 * signed, and sees every checkpoint before it is handed out.
 */
import type { Kysely } from "kysely";
import type { DialectName } from "../db/connect.js";
import type { CommitDurability } from "../db/durability.js";
import type { Database } from "../db/schema.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { Appender } from "./appender.js";
import { canonicalBytes, sha256Hex } from "./canonical.js";
import { certificateLines, currentCrlPem, PemCache } from "./certificates.js";
import { CheckpointPublisher } from "./checkpoints.js";
import { exportLines, planExport, type ExportOptions, type ExportPlan } from "./export.js";
import type { LogGuard } from "./guard.js";
import { KyselyLogStore } from "./storage/kysely-store.js";
import type { LogStore } from "./storage/log-store.js";
import { CRL_PEM_CACHE_SIZE, MAX_PAGE } from "./tuning.js";
import type {
  Checkpoint,
  DigestSigner,
  LifecycleType,
  LogEntry,
  LogSignerInfo,
  Receipt,
  StoredPayload,
} from "./types.js";

export interface AuditLogOptions {
  /** the database (certificates and CRLs; the log's tables too unless `store` is given) */
  db: Kysely<any>;
  dialect: DialectName;
  /** the log's tables (default: a KyselyLogStore over `db`, `dialect` and `durability`) */
  store?: LogStore;
  /** asked before appends and new checkpoints, told of every checkpoint handed out (the fork guard) */
  guard?: LogGuard;
  custody: DigestSigner;
  /** the CA certificate PEM (receipts and export headers carry it, informatively) */
  caCertificatePem: string | (() => string);
  logSigner: LogSignerInfo;
  now?: () => Date;
  logger?: { warn(o: object, msg: string): void; error(o: object, msg: string): void };
  /** checkpoint debounce after appends, ms (default DEFAULT_CHECKPOINT_DEBOUNCE_MS; 0 = only on demand) */
  checkpointDebounceMs?: number;
  maxBatch?: number;
  maxQueue?: number;
  maxAttempts?: number;
  /** see AppenderOptions.clockGuard */
  clockGuard?: { check(now: Date): void };
  /** see AppenderOptions.requestDeadlineMs */
  requestDeadlineMs?: number;
  /** How batch commits reach stable storage (the database handle's `durability`; default: the commit itself). Used by the default store. */
  durability?: CommitDurability;
}

export type OperationPayload = { json: unknown } | { bytes: Uint8Array };

export interface EntriesPage {
  issuer: string;
  /** current chain size */
  size: number;
  entries: LogEntry[];
  /** `from` of the next page, or null */
  next: number | null;
}

export class AuditLog {
  readonly publisher: CheckpointPublisher;
  readonly store: LogStore;
  private readonly appender: Appender;
  private readonly db: Kysely<Database>;
  private readonly guard: LogGuard | undefined;
  private readonly now: () => Date;
  private crlFlight: Promise<string | undefined> | undefined;
  private readonly crlPems = new PemCache(CRL_PEM_CACHE_SIZE);

  constructor(private readonly o: AuditLogOptions) {
    this.db = o.db as Kysely<Database>;
    this.store =
      o.store ??
      new KyselyLogStore({ db: this.db, dialect: o.dialect, ...(o.durability ? { durability: o.durability } : {}) });
    this.guard = o.guard;
    this.now = o.now ?? (() => new Date());
    const pubOpts: ConstructorParameters<typeof CheckpointPublisher>[0] = {
      store: this.store,
      custody: o.custody,
      logSigner: o.logSigner,
      now: this.now,
      onError: (e) => o.logger?.warn({ err: e }, "checkpoint publication failed"),
    };
    if (o.checkpointDebounceMs !== undefined) pubOpts.debounceMs = o.checkpointDebounceMs;
    this.publisher = new CheckpointPublisher(pubOpts);
    const appOpts: ConstructorParameters<typeof Appender>[0] = {
      store: this.store,
      db: this.db,
      custody: o.custody,
      logSigner: o.logSigner,
      publisher: this.publisher,
      now: this.now,
    };
    if (o.logger) appOpts.logger = o.logger;
    if (o.maxBatch !== undefined) appOpts.maxBatch = o.maxBatch;
    if (o.maxQueue !== undefined) appOpts.maxQueue = o.maxQueue;
    if (o.maxAttempts !== undefined) appOpts.maxAttempts = o.maxAttempts;
    if (o.requestDeadlineMs !== undefined) appOpts.requestDeadlineMs = o.requestDeadlineMs;
    if (o.clockGuard !== undefined) appOpts.clockGuard = o.clockGuard;
    this.appender = new Appender(appOpts);
  }

  /** Appender counters (batches, commits, head conflicts, signature failures). */
  get stats() {
    return this.appender.stats;
  }

  private get caPem(): string {
    return typeof this.o.caCertificatePem === "function" ? this.o.caCertificatePem() : this.o.caCertificatePem;
  }

  /** Lifecycle entry signed by the log key; `payloadHash` = SHA-256(JCS(details)). */
  async appendLifecycle(
    issuerId: string,
    e: { type: LifecycleType; agent: string; details: Record<string, unknown> },
  ): Promise<LogEntry> {
    await this.guard?.check(issuerId);
    const details = contractDetails(e.type, e.details);
    const { entry } = await this.appender.append({
      issuerId,
      type: e.type,
      agent: e.agent,
      details,
      payloadHash: sha256Hex(canonicalBytes(details)),
    });
    return entry;
  }

  /** Is there already a lifecycle entry of `type` for `agent` whose details contain `match`? (idempotent retries) */
  async findLifecycle(
    issuerId: string,
    type: LifecycleType,
    agent: string,
    match: Record<string, string> = {},
  ): Promise<LogEntry | undefined> {
    for (const e of await this.store.lifecycleEntries(issuerId, type, agent)) {
      if (Object.entries(match).every(([k, v]) => e.details?.[k] === v)) return e;
    }
    return undefined;
  }

  /** An operation signed by the agent's own (active) key; resolves after the durable commit. */
  async appendOperation(
    issuerId: string,
    agentId: string,
    payload: OperationPayload,
    opts: { contentType?: string } = {},
  ): Promise<{ entry: LogEntry; receipt: Receipt }> {
    await this.guard?.check(issuerId);
    let stored: StoredPayload;
    if ("bytes" in payload) stored = { kind: "bytes", data: payload.bytes };
    else {
      let bytes: Buffer;
      try {
        bytes = canonicalBytes(payload.json);
      } catch {
        throw new ValidationError("payload is not representable as JSON", { field: "payload" });
      }
      stored = { kind: "json", data: bytes };
    }
    const appended = await this.appender.append({
      issuerId,
      type: "agent.operation",
      agent: agentId,
      payloadHash: sha256Hex(stored.data),
      payload: stored,
      ...(opts.contentType !== undefined ? { details: { contentType: opts.contentType } } : {}),
    });
    const receipt: Receipt = {
      format: "kakunin-receipt/1",
      entry: appended.entry,
      certificates: [appended.signer.certificatePem, this.caPem],
    };
    const crl = await this.currentCrl();
    if (crl !== undefined) receipt.crl = crl;
    return { entry: appended.entry, receipt };
  }

  /** The kakunin-receipt/1 members of stored entry `seq` (its signer's certificate, the CA's, the current CRL), or undefined. */
  async storedReceipt(issuerId: string, seq: number): Promise<Receipt | undefined> {
    const entry = await this.shown(this.store.entry(issuerId, seq));
    if (!entry) return undefined;
    const [signer] = await certificateLines(this.db, [entry.signer.cert]);
    const receipt: Receipt = { format: "kakunin-receipt/1", entry, certificates: [signer?.pem ?? "", this.caPem] };
    const crl = await this.currentCrl();
    if (crl !== undefined) receipt.crl = crl;
    return receipt;
  }

  /** The latest CRL; concurrent callers (a whole committed batch) share one query. */
  private currentCrl(): Promise<string | undefined> {
    if (!this.crlFlight) {
      this.crlFlight = currentCrlPem(this.db, this.crlPems).finally(() => {
        this.crlFlight = undefined;
      });
    }
    return this.crlFlight;
  }

  /**
   * What a reader is shown (an entry, a size, a checkpoint) waits until every batch committed before
   * the read is on stable storage: nothing shown may be taken back by a power loss — someone may
   * already hold it. Read first, then wait: a batch's commit is noted for syncing before its
   * connection is released, so whatever the read saw is covered.
   */
  private async shown<T>(read: Promise<T>): Promise<T> {
    const value = await read;
    await this.store.flushed();
    return value;
  }

  async size(issuerId: string): Promise<number> {
    return (await this.shown(this.store.head(issuerId))).size;
  }

  /** Entries [from, to] (inclusive), at most `limit` (≤ MAX_PAGE). */
  async entries(issuerId: string, opts: { from?: number; to?: number; limit?: number } = {}): Promise<EntriesPage> {
    const size = await this.size(issuerId);
    const from = opts.from ?? 0;
    const limit = Math.min(opts.limit ?? MAX_PAGE, MAX_PAGE);
    const to = Math.min(opts.to ?? size - 1, size - 1, from + limit - 1);
    if (from > to) return { issuer: issuerId, size, entries: [], next: null };
    const entries = await this.store.entries(issuerId, from, to);
    const last = Math.min(opts.to ?? size - 1, size - 1);
    return { issuer: issuerId, size, entries, next: to < last ? to + 1 : null };
  }

  entry(issuerId: string, seq: number): Promise<LogEntry | undefined> {
    return this.shown(this.store.entry(issuerId, seq));
  }

  /** A signed checkpoint of the current head (signed now if the stored one is behind). */
  async checkpoint(issuerId: string): Promise<Checkpoint> {
    await this.guard?.check(issuerId);
    return this.handedOut(await this.shown(this.publisher.current(issuerId)));
  }

  /**
   * What GET /v1/log/checkpoint serves: a checkpoint of the current head, or — KMS down — the latest
   * signed one (`size` is the chain's size then, so the caller can say it does not cover it).
   */
  async readCheckpoint(issuerId: string): Promise<{ checkpoint: Checkpoint; size: number }> {
    await this.guard?.check(issuerId);
    const r = await this.shown(
      (async () => {
        const head = await this.store.head(issuerId);
        return { checkpoint: await this.publisher.forRead(issuerId, head.size, head.head), size: head.size };
      })(),
    );
    await this.handedOut(r.checkpoint);
    return r;
  }

  /**
   * What the public endpoint serves: the latest published checkpoint (or one made now, unless KMS
   * is down). NotFoundError (ERR_ISSUER_NOT_FOUND) for an unknown issuer.
   */
  async publicCheckpoint(issuerId: string): Promise<Checkpoint> {
    if (!(await this.store.issuerExists(issuerId)))
      throw new NotFoundError(`Issuer ${issuerId} not found`, "ERR_ISSUER_NOT_FOUND");
    await this.guard?.check(issuerId);
    return this.handedOut(
      await this.shown(
        (async () => (await this.publisher.latest(issuerId)) ?? (await this.readCheckpoint(issuerId)).checkpoint)(),
      ),
    );
  }

  /**
   * Validate an export and fetch what must exist before streaming (checkpoint, certificates). The
   * export streams entries up to the plan's checkpoint, which was read (and flushed) here.
   */
  async planExport(issuerId: string, opts: ExportOptions): Promise<ExportPlan> {
    await this.guard?.check(issuerId);
    const plan = await this.shown(
      planExport(
        {
          store: this.store,
          db: this.db,
          publisher: this.publisher,
          logSigner: this.o.logSigner,
          caCertificatePem: this.caPem,
          now: this.now,
        },
        issuerId,
        opts,
      ),
    );
    await this.handedOut(plan.checkpoint);
    return plan;
  }

  /** NDJSON lines (each ending in "\n") of a planned export, read from the database in keyset pages. */
  exportLines(plan: ExportPlan): AsyncGenerator<string> {
    return exportLines(this.store, plan);
  }

  /** Erase a stored payload. The entry and the chain are untouched. False if it was already erased. */
  async erasePayload(issuerId: string, seq: number): Promise<boolean> {
    const r = await this.store.erasePayload(issuerId, seq);
    if (!r.entry) throw new NotFoundError(`No entry ${seq} in this log`);
    return r.erased;
  }

  /** Why the guard refuses `issuerId`'s chain now (appends, new checkpoints), or undefined (also without a guard). */
  refusal(issuerId: string): Promise<string | undefined> {
    return this.guard ? this.guard.status(issuerId) : Promise.resolve(undefined);
  }

  /** Every checkpoint that leaves the log passes the guard first (the fork guard archives it). */
  private async handedOut(cp: Checkpoint): Promise<Checkpoint> {
    await this.guard?.handingOut(cp);
    return cp;
  }

  /** Wait for pending appends, stop publishing. */
  async close(): Promise<void> {
    await this.appender.drain();
    this.publisher.close();
  }
}

/**
 * FORMATS.md fixes the detail fields verifiers read: `cert` (agent.registered), `oldCert`/`newCert`
 * (key.rotated), `cert`/`reason` (certificate.revoked). Extra fields are kept (the signature covers
 * them too); a lifecycle entry without the contract fields is refused before anything is signed.
 */
export function contractDetails(type: LifecycleType, d: Record<string, unknown>): Record<string, unknown> {
  const required: Record<LifecycleType, string[]> = {
    "agent.registered": ["cert"],
    "key.rotated": ["oldCert", "newCert"],
    "certificate.revoked": ["cert", "reason"],
  };
  for (const name of required[type]) {
    if (typeof d[name] !== "string") throw new Error(`${type} details need "${name}" (FORMATS.md)`);
  }
  return d;
}
