/**
 * The fork guard's archive of log v2: every signed-note checkpoint the publisher stores, verbatim,
 * appended to `<KAKUNIN_WITNESS_DIR>/tree/<issuer>.ndjson` (beside the v1 archive of archive.ts, in
 * a file of its own so that many notes never push the v1 baseline out of the tail that is read).
 * Operators' fork acknowledgements are recorded here too, with the tree's size and root.
 */
import { join } from "node:path";
import { ForkArchive, readTail } from "./archive.js";

/** A log v2 checkpoint as archived: its signed note byte for byte, with its size and root pulled out. */
export interface ArchivedTreeCheckpoint {
  kind: "tree-checkpoint";
  issuer: string;
  origin: string;
  size: number;
  /** base64 RFC 9162 root, as in the note */
  root: string;
  /** when it was archived */
  time: string;
  /** the signed note as stored by the publisher (log signature; cosignatures are added later) */
  note: string;
}

/** The tree half of an operator's fork acknowledgement (acknowledge.ts). */
export interface TreeForkAcknowledgement {
  kind: "fork-acknowledged";
  issuer: string;
  time: string;
  /** the newest archived note the database's tree could not reproduce */
  abandoned: { size: number; root: string } | null;
  /** the database's tree at the acknowledgement: the new baseline */
  resumedAt: { size: number; root: string };
  reason: string;
}

/** What the database's tree must agree with (see {@link TreeArchive.baseline}). */
export interface TreeBaseline {
  size: number;
  root: string;
  from: "checkpoint" | "acknowledgement";
  /** the archived note (a checkpoint baseline), the evidence of what was published */
  note?: string;
  origin?: string;
}

export class TreeArchive {
  readonly #files: ForkArchive;

  /** `dir` is KAKUNIN_WITNESS_DIR; the notes go to its `tree/` folder. */
  constructor(readonly dir: string) {
    this.#files = new ForkArchive(join(dir, "tree"));
  }

  append(issuerId: string, record: ArchivedTreeCheckpoint | TreeForkAcknowledgement): Promise<void> {
    return this.#files.append(issuerId, record);
  }

  issuers(): Promise<string[]> {
    return this.#files.issuers();
  }

  /** The largest archived note after the last acknowledgement, or that acknowledgement's `resumedAt`. */
  async baseline(issuerId: string): Promise<TreeBaseline | undefined> {
    const records = await readTail(this.#files.file(issuerId), issuerId);
    return records && treeBaselineOf(records as unknown as (ArchivedTreeCheckpoint | TreeForkAcknowledgement)[]);
  }
}

/** The baseline of an issuer's tree records, in file order (pure). */
export function treeBaselineOf(
  records: readonly (ArchivedTreeCheckpoint | TreeForkAcknowledgement)[],
): TreeBaseline | undefined {
  let lastAck = -1;
  records.forEach((r, i) => {
    if (r.kind === "fork-acknowledged") lastAck = i;
  });
  let best: TreeBaseline | undefined;
  if (lastAck >= 0) {
    const ack = records[lastAck] as TreeForkAcknowledgement;
    best = { size: ack.resumedAt.size, root: ack.resumedAt.root, from: "acknowledgement" };
  }
  for (const r of records.slice(lastAck + 1)) {
    if (r.kind !== "tree-checkpoint" || typeof r.size !== "number" || typeof r.root !== "string") continue;
    if (typeof r.note !== "string" || typeof r.origin !== "string") continue;
    if (!best || r.size > best.size)
      best = { size: r.size, root: r.root, from: "checkpoint", note: r.note, origin: r.origin };
  }
  return best;
}
