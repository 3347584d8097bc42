/**
 * AuditLog: the log's facade for routes and the lifecycle code — append (operations and lifecycle
 * entries), read, checkpoints, export and payload erasure. The appending machinery lives in
 * appender.ts (sequencer → signer → committer → checkpoint publisher).
 */
import type { Kysely } from "kysely";
import type { DialectName } from "../db/connect.js";
import { synchronousCommits, type CommitDurability } from "../db/durability.js";
import { NotFoundError, ValidationError } from "../errors.js";
import { Appender } from "./appender.js";
import { canonicalBytes, sha256Hex } from "./canonical.js";
import { currentCrlPem, PemCache } from "./certificates.js";
import { CheckpointPublisher } from "./checkpoints.js";
import { readHead } from "./committer.js";
import { exportLines, planExport, type ExportOptions, type ExportPlan } from "./export.js";
import type { LogDb } from "./schema.js";
import type { Checkpoint, DigestSigner, LifecycleType, LogEntry, LogSignerInfo, Receipt, StoredPayload } from "./types.js";

export interface AuditLogOptions {
  db: Kysely<any>;
  dialect: DialectName;
  custody: DigestSigner;
  /** the CA certificate PEM (receipts and export headers carry it, informatively) */
  caCertificatePem: string | (() => string);
  logSigner: LogSignerInfo;
  now?: () => Date;
  logger?: { warn(o: object, msg: string): void; error(o: object, msg: string): void };
  /** checkpoint debounce after appends, ms (default 1000; 0 = only on demand) */
  checkpointDebounceMs?: number;
  maxBatch?: number;
  maxQueue?: number;
  maxAttempts?: number;
  /** see AppenderOptions.clockGuard */
  clockGuard?: { check(now: Date): void };
  /** see AppenderOptions.requestDeadlineMs */
  requestDeadlineMs?: number;
  /** How batch commits reach stable storage (the database handle's `durability`; default: the commit itself). */
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

export const MAX_PAGE = 1000;

export class AuditLog {
  readonly publisher: CheckpointPublisher;
  private readonly appender: Appender;
  private readonly db: Kysely<LogDb>;
  private readonly now: () => Date;
  private crlFlight: Promise<string | undefined> | undefined;
  private readonly durability: CommitDurability;
  private readonly crlPems = new PemCache(16);

  constructor(private readonly o: AuditLogOptions) {
    this.db = o.db as Kysely<LogDb>;
    this.now = o.now ?? (() => new Date());
    this.durability = o.durability ?? synchronousCommits;
    const pubOpts: ConstructorParameters<typeof CheckpointPublisher>[0] = {
      db: this.db,
      custody: o.custody,
      logSigner: o.logSigner,
      now: this.now,
      onError: (e) => o.logger?.warn({ err: e }, "checkpoint publication failed"),
    };
    if (o.checkpointDebounceMs !== undefined) pubOpts.debounceMs = o.checkpointDebounceMs;
    this.publisher = new CheckpointPublisher(pubOpts);
    const appOpts: ConstructorParameters<typeof Appender>[0] = {
      db: this.db,
      dialect: o.dialect,
      custody: o.custody,
      logSigner: o.logSigner,
      publisher: this.publisher,
      now: this.now,
      durability: this.durability,
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
  async appendLifecycle(issuerId: string, e: { type: LifecycleType; agent: string; details: Record<string, unknown> }): Promise<LogEntry> {
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
  async findLifecycle(issuerId: string, type: LifecycleType, agent: string, match: Record<string, string> = {}): Promise<LogEntry | undefined> {
    const rows = await this.db.selectFrom("entries").select("body")
      .where("issuer_id", "=", issuerId).where("type", "=", type).where("agent_id", "=", agent)
      .orderBy("seq", "asc").execute();
    for (const r of rows) {
      const e = JSON.parse(r.body) as LogEntry;
      if (Object.entries(match).every(([k, v]) => e.details?.[k] === v)) return e;
    }
    return undefined;
  }

  /** An operation signed by the agent's own (active) key; resolves after the durable commit. */
  async appendOperation(issuerId: string, agentId: string, payload: OperationPayload, opts: { contentType?: string } = {}): Promise<{ entry: LogEntry; receipt: Receipt }> {
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
    await this.durability.flushed();
    return value;
  }

  async size(issuerId: string): Promise<number> {
    return (await this.shown(readHead(this.db, issuerId))).size;
  }

  /** Entries [from, to] (inclusive), at most `limit` (≤ MAX_PAGE). */
  async entries(issuerId: string, opts: { from?: number; to?: number; limit?: number } = {}): Promise<EntriesPage> {
    const size = await this.size(issuerId);
    const from = opts.from ?? 0;
    const limit = Math.min(opts.limit ?? MAX_PAGE, MAX_PAGE);
    const to = Math.min(opts.to ?? size - 1, size - 1, from + limit - 1);
    if (from > to) return { issuer: issuerId, size, entries: [], next: null };
    const rows = await this.db.selectFrom("entries").select("body")
      .where("issuer_id", "=", issuerId).where("seq", ">=", from).where("seq", "<=", to)
      .orderBy("seq", "asc").execute();
    const last = Math.min(opts.to ?? size - 1, size - 1);
    return { issuer: issuerId, size, entries: rows.map((r) => JSON.parse(r.body) as LogEntry), next: to < last ? to + 1 : null };
  }

  async entry(issuerId: string, seq: number): Promise<LogEntry | undefined> {
    const row = await this.shown(this.db.selectFrom("entries").select("body").where("issuer_id", "=", issuerId).where("seq", "=", seq).executeTakeFirst());
    return row ? (JSON.parse(row.body) as LogEntry) : undefined;
  }

  /** A signed checkpoint of the current head (signed now if the stored one is behind). */
  checkpoint(issuerId: string): Promise<Checkpoint> {
    return this.shown(this.publisher.current(issuerId));
  }

  /**
   * What GET /v1/log/checkpoint serves: a checkpoint of the current head, or — KMS down — the latest
   * signed one (`size` is the chain's size then, so the caller can say it does not cover it).
   */
  readCheckpoint(issuerId: string): Promise<{ checkpoint: Checkpoint; size: number }> {
    return this.shown((async () => {
      const head = await readHead(this.db, issuerId);
      return { checkpoint: await this.publisher.forRead(issuerId, head.size, head.head), size: head.size };
    })());
  }

  /** What the public endpoint serves: the latest published checkpoint (or one made now, unless KMS is down). */
  async publicCheckpoint(issuerId: string): Promise<Checkpoint> {
    return this.shown((async () => (await this.publisher.latest(issuerId)) ?? (await this.readCheckpoint(issuerId)).checkpoint)());
  }

  /**
   * Validate an export and fetch what must exist before streaming (checkpoint, certificates). The
   * export streams entries up to the plan's checkpoint, which was read (and flushed) here.
   */
  planExport(issuerId: string, opts: ExportOptions): Promise<ExportPlan> {
    return this.shown(planExport(
      { db: this.db, publisher: this.publisher, logSigner: this.o.logSigner, caCertificatePem: this.caPem, now: this.now },
      issuerId,
      opts,
    ));
  }

  /** NDJSON lines (each ending in "\n") of a planned export, read from the database in keyset pages. */
  exportLines(plan: ExportPlan): AsyncGenerator<string> {
    return exportLines(this.db, plan);
  }

  /** Erase a stored payload. The entry and the chain are untouched. False if it was already erased. */
  async erasePayload(issuerId: string, seq: number): Promise<boolean> {
    const entry = await this.db.selectFrom("entries").select("seq").where("issuer_id", "=", issuerId).where("seq", "=", seq).executeTakeFirst();
    if (!entry) throw new NotFoundError(`No entry ${seq} in this log`);
    const res = await this.db.deleteFrom("payloads").where("issuer_id", "=", issuerId).where("seq", "=", seq).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
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
