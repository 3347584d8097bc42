import type { Alert } from "./alert.js";
import type { KmsEvent } from "./cloudtrail-event.js";
import { readCloudTrailWindow } from "./cloudtrail-reader.js";
import type { CloudTrailStore } from "./cloudtrail-store.js";
import { scopeOfKeys, type KeyOwners } from "./key-owners.js";
import { reconcile, reconciliationAlerts, signaturesToLookUp } from "./reconcile.js";
import type { RecordedSignatures } from "./recorded-signatures.js";

/**
 * The thin driver around reconcile.ts: reads the CloudTrail files delivered since the last run
 * (with an overlap, `deliveryOverlapMs`, for files that land late under an earlier name), looks
 * the Sign calls up on both sides, publishes the alerts, and remembers what it judged so a
 * finding is raised once. Signs too young to judge wait for the next run in memory.
 */
export interface ReconcilerOptions {
  /** Window of the first run, ms back from now. */
  initialLookbackMs: number;
  /** How far before the previous run's end each run starts reading again. */
  deliveryOverlapMs: number;
  /** See ReconcileInput.graceMs. */
  graceMs: number;
}

export const DEFAULT_RECONCILER_OPTIONS: ReconcilerOptions = {
  initialLookbackMs: 24 * 3_600_000,
  // CloudTrail delivers within about 5 minutes on average; a file is named by its delivery minute.
  deliveryOverlapMs: 15 * 60_000,
  graceMs: 60_000,
};

export interface ReconcilerDeps {
  store: CloudTrailStore;
  owners: KeyOwners;
  recorded: RecordedSignatures;
  /** Receives each run's alerts (e.g. AlertDispatcher.publish). */
  publish: (alerts: Alert[]) => void;
  clock?: () => number;
  options?: Partial<ReconcilerOptions>;
}

/** What one run did: counts for logs and `POST /v1/admin/reconcile`, plus the alerts raised. */
export interface ReconcileReport {
  from: string;
  to: string;
  logFilesRead: number;
  digestFilesSkipped: number;
  kmsEvents: number;
  signEvents: number;
  matched: number;
  unlogged: number;
  pending: number;
  refused: number;
  unresolved: number;
  foreign: number;
  /** Files or records that are not what CloudTrail writes, by location. */
  problems: string[];
  alerts: Alert[];
}

export class Reconciler {
  private readonly options: ReconcilerOptions;
  private readonly clock: () => number;
  /** Files read, by key → delivery time (forgotten once out of every future window). */
  private readonly filesRead = new Map<string, number>();
  /** Sign events judged (matched or alerted), by request id → event time. */
  private readonly judged = new Map<string, number>();
  private readonly pending = new Map<string, KmsEvent>();
  private lastTo: number | undefined;
  private running: Promise<ReconcileReport> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ReconcilerDeps) {
    this.options = { ...DEFAULT_RECONCILER_OPTIONS, ...deps.options };
    this.clock = deps.clock ?? Date.now;
  }

  /** One run now; a run already under way is joined, not doubled. */
  runOnce(): Promise<ReconcileReport> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs every `intervalMs` until stop(); `onError` gets a failed run's error (the next run retries the same window). */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        this.runOnce()
          .catch(onError)
          .finally(() => {
            if (this.timer !== undefined) tick();
          });
      }, intervalMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(): Promise<ReconcileReport> {
    const now = this.clock();
    const from =
      this.lastTo === undefined ? now - this.options.initialLookbackMs : this.lastTo - this.options.deliveryOverlapMs;
    const keyArns = await this.deps.owners.allKeyArns();
    const read = await readCloudTrailWindow(this.deps.store, from, now, {
      scope: scopeOfKeys(keyArns),
      alreadyRead: (key) => this.filesRead.has(key),
    });

    // This run judges the new events plus the ones left pending, each request id once.
    const events = new Map<string, KmsEvent>(this.pending);
    for (const event of read.events) {
      const id = event.requestId || event.eventId;
      if (!this.judged.has(id)) events.set(id, event);
    }
    const batch = [...events.values()];
    const owners = await this.deps.owners.ownersOf([...new Set(batch.flatMap((e) => (e.keyArn ? [e.keyArn] : [])))]);
    const recorded = await this.deps.recorded.find(signaturesToLookUp(batch, owners));
    const result = reconcile({ events: batch, owners, recorded, nowMs: now, graceMs: this.options.graceMs });
    const alerts = reconciliationAlerts(result, now);

    // Commit the run's state only now: a run that failed above is retried whole.
    this.pending.clear();
    for (const event of result.pending) this.pending.set(event.requestId || event.eventId, event);
    for (const event of batch) {
      const id = event.requestId || event.eventId;
      if (!this.pending.has(id)) this.judged.set(id, event.eventTime);
    }
    for (const key of read.logFiles) this.filesRead.set(key, now);
    for (const { key } of read.digests) this.filesRead.set(key, now);
    this.lastTo = now;
    this.forgetBefore(now - this.options.deliveryOverlapMs - this.options.initialLookbackMs);
    if (alerts.length > 0) this.deps.publish(alerts);

    const signs = batch.filter((e) => e.eventName === "Sign").length;
    return {
      from: new Date(from).toISOString(),
      to: new Date(now).toISOString(),
      logFilesRead: read.logFiles.length,
      digestFilesSkipped: read.digests.length,
      kmsEvents: read.events.length,
      signEvents: signs,
      matched: result.matched.length,
      unlogged: result.unlogged.length,
      pending: result.pending.length,
      refused: result.refused.length,
      unresolved: result.unresolved.length,
      foreign: result.foreign,
      problems: read.problems.map((p) => p.message),
      alerts,
    };
  }

  /** Bounded memory: what no future window can contain again is forgotten. */
  private forgetBefore(ms: number): void {
    for (const [key, at] of this.filesRead) if (at < ms) this.filesRead.delete(key);
    for (const [id, at] of this.judged) if (at < ms) this.judged.delete(id);
  }
}
