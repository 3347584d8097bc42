import type { Kysely } from "kysely";
import type { Database } from "../../db/schema.js";
import type { Alert, AlertKind, AlertSeverity, Evidence } from "../alert.js";
import type { AlertSink } from "../alert-sink.js";
import type { MonitoringDb } from "./tables.js";

export interface AlertQuery {
  /** Only this issuer's alerts (an issuer token); undefined = all (the operator). */
  issuerId?: string;
  agentId?: string;
  kind?: AlertKind;
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
  /** Keyset cursor: alerts strictly older than this (time, id) pair. */
  before?: { time: string; id: string };
  limit: number;
}

/** The `alerts` table: a sink (stored once by id: the same finding never makes two rows) and its reader. */
export class AlertStore implements AlertSink {
  readonly name = "alerts table";
  private readonly db: Kysely<MonitoringDb>;

  constructor(db: Kysely<Database>) {
    this.db = db as unknown as Kysely<MonitoringDb>;
  }

  async send(alert: Alert): Promise<void> {
    await this.db
      .insertInto("alerts")
      .values({
        id: alert.id,
        time: alert.time,
        issuer_id: alert.issuerId,
        agent_id: alert.agentId,
        key_arn: alert.keyArn,
        kind: alert.kind,
        severity: alert.severity,
        summary: alert.summary,
        evidence: JSON.stringify(alert.evidence),
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  }

  /** Whether alert `id` is stored already (the same finding raised again: after a restart, by another instance). */
  async has(id: string): Promise<boolean> {
    const row = await this.db.selectFrom("alerts").select("id").where("id", "=", id).executeTakeFirst();
    return row !== undefined;
  }

  /** Newest first. */
  async list(q: AlertQuery): Promise<Alert[]> {
    let query = this.db.selectFrom("alerts").selectAll();
    if (q.issuerId !== undefined) query = query.where("issuer_id", "=", q.issuerId);
    if (q.agentId !== undefined) query = query.where("agent_id", "=", q.agentId);
    if (q.kind !== undefined) query = query.where("kind", "=", q.kind);
    if (q.since !== undefined) query = query.where("time", ">=", q.since);
    if (q.until !== undefined) query = query.where("time", "<=", q.until);
    const before = q.before;
    if (before)
      query = query.where((eb) =>
        eb.or([eb("time", "<", before.time), eb.and([eb("time", "=", before.time), eb("id", "<", before.id)])]),
      );
    const rows = await query.orderBy("time", "desc").orderBy("id", "desc").limit(q.limit).execute();
    return rows.map((r) => ({
      id: r.id,
      time: r.time,
      issuerId: r.issuer_id,
      agentId: r.agent_id,
      keyArn: r.key_arn,
      kind: r.kind as AlertKind,
      severity: r.severity as AlertSeverity,
      summary: r.summary,
      evidence: JSON.parse(r.evidence) as Evidence,
    }));
  }
}
