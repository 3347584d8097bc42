import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Database } from "../../db/schema.js";
import type { LogStore } from "../../log/storage/log-store.js";
import type { RecordedSignature, RecordedSignatures, SignatureRef } from "../recorded-signatures.js";
import type { MonitoringDb } from "./tables.js";

/**
 * How much earlier than KMS's time of a Sign (CloudTrail's `eventTime`) its entry may be dated:
 * the entry's time is taken before its Sign (which waits at most the request deadline, seconds),
 * and Kakunin's clock may differ from AWS's. An hour is far more than both.
 */
export const ENTRY_BEFORE_SIGN_SLACK_MS = 60 * 60_000;

/**
 * Kakunin's own Signs from the database: entries by their stored KMS request id (through the
 * LogStore, looked for from {@link ENTRY_BEFORE_SIGN_SLACK_MS} before the earliest Sign asked
 * about), and the CA and log keys' other Signs (certificates, CRLs, checkpoints) from
 * `kms_signatures`, which {@link recordOtherSignature} fills as KeyCustody reports them.
 */
export class DbRecordedSignatures implements RecordedSignatures {
  private readonly db: Kysely<MonitoringDb>;

  constructor(
    db: Kysely<Database>,
    private readonly store: LogStore,
  ) {
    this.db = db as unknown as Kysely<MonitoringDb>;
  }

  async find(refs: readonly SignatureRef[]): Promise<Map<string, RecordedSignature>> {
    const wanted = new Map(refs.map((r) => [r.requestId, r.keyArn]));
    const ids = [...wanted.keys()];
    const found = new Map<string, RecordedSignature>();
    if (ids.length === 0) return found;
    let earliest = Infinity;
    for (const r of refs) earliest = Math.min(earliest, r.timeMs);
    // A time that is not a number would hide entries: then the whole log is searched.
    const since = Number.isFinite(earliest) ? new Date(earliest - ENTRY_BEFORE_SIGN_SLACK_MS).toISOString() : "";
    for (const e of await this.store.entriesByKmsRequestId(ids, since)) {
      if (wanted.get(e.requestId) !== e.keyArn) continue; // a request id matches only with its own key
      found.set(e.requestId, {
        requestId: e.requestId,
        keyArn: e.keyArn,
        kind: "entry",
        ref: `${e.issuerId}/${e.seq}`,
        issuerId: e.issuerId,
        agentId: e.agentId,
      });
    }
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom("kms_signatures")
        .select(["request_id", "key_arn"])
        .where("request_id", "in", ids.slice(i, i + 500))
        .execute();
      for (const r of rows) {
        if (found.has(r.request_id) || wanted.get(r.request_id) !== r.key_arn) continue;
        found.set(r.request_id, {
          requestId: r.request_id,
          keyArn: r.key_arn,
          kind: "authority",
          ref: r.request_id,
          issuerId: undefined,
          agentId: undefined,
        });
      }
    }
    return found;
  }
}

/**
 * KeyCustody's `onSigned` listener: stores the request id of a Sign made outside the entry path.
 * Fire and forget (these Signs are rare: certificates, CRLs, checkpoints); a failed write is
 * logged, and the Sign would then show up as unlogged — loud, not silent.
 */
export function recordOtherSignature(db: Kysely<Database>, logger: Logger, now: () => Date) {
  const mdb = db as unknown as Kysely<MonitoringDb>;
  return (arn: string, requestId: string): void => {
    mdb
      .insertInto("kms_signatures")
      .values({ request_id: requestId, key_arn: arn, created_at: now().toISOString() })
      .onConflict((oc) => oc.column("request_id").doNothing())
      .execute()
      .catch((err: unknown) =>
        logger.error({ err: (err as Error).message, keyArn: arn, requestId }, "could not record a KMS request id"),
      );
  };
}
