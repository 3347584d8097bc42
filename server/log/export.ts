/**
 * Export (`kakunin-log/1`, NDJSON): header, certificates, CRL, entries (+ payloads) with the log
 * v2 tree-checkpoint lines among them (each right after the entry that ends its tree), checkpoint.
 * Everything that can fail (range validation, the covering checkpoint, which may need a KMS
 * signature) is done in planExport before the first byte is sent; exportLines then reads the
 * entries in keyset pages, so memory stays constant whatever the log's size.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { KmsUnavailableError, ValidationError } from "../errors.js";
import { ZERO_HASH } from "./canonical.js";
import { certificateLines, currentCrlPem, type CertificateLine } from "./certificates.js";
import type { CheckpointPublisher } from "./checkpoints.js";
import type { LogStore } from "./storage/log-store.js";
import type { Checkpoint, LogSignerInfo } from "./types.js";

export interface ExportOptions {
  from?: number;
  to?: number;
  payloads?: boolean;
}

export interface ExportPlan {
  issuer: string;
  from: number;
  /** inclusive; -1 for an empty range */
  to: number;
  payloads: boolean;
  header: Record<string, unknown>;
  certificates: CertificateLine[];
  crlPem: string | undefined;
  checkpoint: Checkpoint;
  /**
   * The stored signed-note checkpoints (log v2) of sizes in (from, to + 1], the newest
   * MAX_TREE_CHECKPOINTS of them, ascending: each becomes a tree-checkpoint line after entry size − 1.
   */
  treeCheckpoints: { size: number; note: string }[];
  /**
   * Set when KMS could not sign a checkpoint of the requested range: the export then ends at the
   * latest signed checkpoint (`to` = its size − 1), which is what it can prove, and says so.
   */
  coverage?: { requestedTo: number; logSize: number };
}

/** At most this many tree-checkpoint lines per export (the newest; FORMATS.md "Export"). */
export const MAX_TREE_CHECKPOINTS = 1024;

export async function planExport(
  ctx: {
    store: LogStore;
    db: Kysely<Database>;
    publisher: CheckpointPublisher;
    logSigner: LogSignerInfo;
    caCertificatePem: string;
    now: () => Date;
  },
  issuerId: string,
  opts: ExportOptions,
): Promise<ExportPlan> {
  const { store, db } = ctx;
  const head = await store.head(issuerId);
  let from = opts.from ?? 0;
  let to = opts.to ?? head.size - 1;
  if (from < 0 || !Number.isInteger(from))
    throw new ValidationError("from must be a non-negative integer", { field: "from" });
  if (!Number.isInteger(to) || to < -1) throw new ValidationError("to must be a non-negative integer", { field: "to" });
  if (to > head.size - 1) to = head.size - 1;
  if (head.size === 0) {
    from = 0;
    to = -1;
  } else if (from > to) {
    throw new ValidationError(`from (${from}) is beyond to (${to}); the log has ${head.size} entries`, {
      field: "from",
    });
  }
  // The covering checkpoint first: with KMS down it may be an earlier one, and the range ends there.
  const requestedTo = to;
  let knownHead: string | undefined;
  if (to >= 0) {
    knownHead = await hashOf(store, issuerId, to);
  }
  const checkpoint = await ctx.publisher.forRead(issuerId, to + 1, to >= 0 ? knownHead : ZERO_HASH);
  if (checkpoint.size < to + 1) {
    if (checkpoint.size <= from) {
      throw new KmsUnavailableError(
        `KMS is unavailable and the latest signed checkpoint (size ${checkpoint.size}) does not reach seq ${from}; retry later`,
        2,
      );
    }
    to = checkpoint.size - 1;
  }

  let prevHash = ZERO_HASH;
  if (from > 0) {
    prevHash = await hashOf(store, issuerId, from - 1);
  }
  let lastHash = ZERO_HASH;
  if (to >= 0) {
    lastHash = await hashOf(store, issuerId, to);
  }

  // Every certificate any exported entry references: signers, plus certificates named in lifecycle details.
  const serials = new Set<string>([ctx.logSigner.certSerial]);
  if (to >= from) {
    for (const s of await store.signerSerials(issuerId, from, to)) serials.add(s);
    for await (const page of store.lifecyclePages(issuerId, from, to)) {
      for (const e of page) {
        const d = e.details ?? {};
        for (const k of ["cert", "oldCert", "newCert"]) if (typeof d[k] === "string") serials.add(d[k] as string);
      }
    }
  }
  const certificates = await certificateLines(db, [...serials]);
  const treeCheckpoints =
    to >= from ? await store.treeCheckpointNotes(issuerId, from + 1, to + 1, MAX_TREE_CHECKPOINTS) : [];
  const crlPem = await currentCrlPem(db);
  const payloads = opts.payloads === true;
  return {
    ...(to < requestedTo ? { coverage: { requestedTo, logSize: head.size } } : {}),
    issuer: issuerId,
    from,
    to,
    payloads,
    header: {
      kind: "header",
      format: "kakunin-log/1",
      issuer: issuerId,
      exportedAt: ctx.now().toISOString(),
      range: { from, to },
      prevHash,
      caCertificate: ctx.caCertificatePem,
      payloads,
    },
    certificates,
    crlPem,
    checkpoint,
    treeCheckpoints,
  };
}

export async function* exportLines(store: LogStore, plan: ExportPlan): AsyncGenerator<string> {
  yield JSON.stringify(plan.header) + "\n";
  for (const c of plan.certificates) yield JSON.stringify(c) + "\n";
  if (plan.crlPem !== undefined) yield JSON.stringify({ kind: "crl", pem: plan.crlPem }) + "\n";
  const trees = plan.treeCheckpoints;
  let t = 0;
  for await (const rows of store.exportPages(plan.issuer, plan.from, plan.to, plan.payloads)) {
    let chunk = "";
    for (const r of rows) {
      const seq = Number(r.seq);
      chunk += `{"kind":"entry","entry":${r.body}}\n`;
      if (plan.payloads && r.kind && r.data) {
        const data = Buffer.from(r.data);
        chunk +=
          r.kind === "json"
            ? `{"kind":"payload","seq":${seq},"json":${data.toString("utf8")}}\n`
            : `{"kind":"payload","seq":${seq},"base64":"${data.toString("base64")}"}\n`;
      }
      while (t < trees.length && trees[t]!.size <= seq + 1) {
        const c = trees[t++]!;
        if (c.size === seq + 1) chunk += JSON.stringify({ kind: "tree-checkpoint", note: c.note }) + "\n";
      }
    }
    yield chunk;
  }
  yield JSON.stringify({ kind: "checkpoint", checkpoint: plan.checkpoint }) + "\n";
}

/** The hash of an entry the range says exists (the head was read first: a missing one is a broken chain). */
async function hashOf(store: LogStore, issuerId: string, seq: number): Promise<string> {
  const hash = await store.entryHash(issuerId, seq);
  if (hash === undefined) throw new Error(`no entry ${seq} in the chain of ${issuerId}`);
  return hash;
}
