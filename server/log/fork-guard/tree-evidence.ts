/**
 * The evidence of a log v2 fork, in the form `kakunin-verify consistency` prints it: the archived
 * signed note (what was published) and the database's own signed note, run through the verifier's
 * `checkSplitView` — both notes verbatim in its evidence text, so anyone holding the log's verifier
 * key can check the finding again. The database's note is, in order of preference: the note it
 * stores for the archived size; a note signed now over its root at that size (`signNote`, the log
 * key in KMS: two notes of one size with two roots are conclusive); its latest note, with a
 * consistency proof from its own tree when that tree is larger. When the database has no note,
 * the evidence is the archived note and the database's size and root.
 */
import {
  base64Encode,
  buildProof,
  checkSplitView,
  consistencyPlan,
  formatCheckpoint,
  formatVerifierKey,
  parseVerifierKey,
  signNote,
  type Bytes,
  type NoteVerifierKey,
  type SplitViewReason,
} from "../../../verifier/src/formats/index.js";
import type { LogStore } from "../storage/log-store.js";
import type { CheckpointKeys } from "../tree/log-key.js";
import type { TreeDisagreement } from "./tree-check.js";

/** What the evidence is built from, besides the database. */
export interface TreeEvidenceSources {
  /** The log's origin for an issuer (`<KAKUNIN_LOG_NAME>/<issuer id>`). */
  origin(issuerId: string): string;
  /** The log's pinned verifier keys for an origin (what checkSplitView verifies both notes with). */
  logKeys(origin: string): Promise<NoteVerifierKey[]>;
  /** Signs a checkpoint note of (size, root) with the log key; absent: never sign one. */
  signNote?(issuerId: string, size: number, root: Uint8Array): Promise<string>;
}

/** A log v2 fork as reported (JSON: it travels in the alert's evidence). */
export interface TreeForkEvidence {
  origin: string;
  archived: { size: number; root: string; from: "checkpoint" | "acknowledgement"; note: string | null };
  database: {
    size: number;
    /** its root at the archived size, when its tree reaches it */
    rootAtArchivedSize: string | null;
    note: string | null;
    /** where `note` came from */
    noteSource: "stored" | "signed" | "latest" | null;
  };
  /** checkSplitView's finding, or why there is none */
  finding: string;
  reason: SplitViewReason | null;
  /** the log signed contradictory statements (two roots at one size) */
  conclusive: boolean;
  /** the split-view evidence text (as `kakunin-verify consistency` prints it), or null without two notes */
  splitView: string | null;
  /** the consistency proof the database's tree gives from the archived size to its note's (base64), if any */
  proof: string[] | null;
}

async function databaseNote(
  store: LogStore,
  src: TreeEvidenceSources,
  issuerId: string,
  d: TreeDisagreement,
): Promise<{ note: string; source: "stored" | "signed" | "latest"; proof?: Uint8Array[] } | undefined> {
  const n = d.base.size;
  if (d.databaseRoot) {
    const stored = await store.treeCheckpointAt(issuerId, n);
    if (stored) return { note: stored.note, source: "stored" };
    if (src.signNote) {
      try {
        return { note: await src.signNote(issuerId, n, d.databaseRoot), source: "signed" };
      } catch {
        // KMS unavailable: the latest stored note (below) is the next best evidence
      }
    }
  }
  const latest = await store.latestTreeCheckpoint(issuerId);
  if (!latest) return undefined;
  if (latest.size <= n || !d.databaseRoot) return { note: latest.note, source: "latest" };
  const proof = await buildProof(consistencyPlan(n, latest.size), store.treeNodes(issuerId));
  return { note: latest.note, source: "latest", proof };
}

/** Never throws for a missing or unusable note: the evidence then says what it lacks. */
export async function treeForkEvidence(
  store: LogStore,
  src: TreeEvidenceSources,
  issuerId: string,
  d: TreeDisagreement,
): Promise<TreeForkEvidence> {
  const origin = d.base.origin ?? src.origin(issuerId);
  let db: Awaited<ReturnType<typeof databaseNote>>;
  let finding = d.problem;
  try {
    db = await databaseNote(store, src, issuerId, d);
  } catch (e) {
    finding = `${d.problem}; the database's own checkpoint could not be read: ${(e as Error).message}`;
  }
  const out: TreeForkEvidence = {
    origin,
    archived: { size: d.base.size, root: d.base.root, from: d.base.from, note: d.base.note ?? null },
    database: {
      size: d.databaseSize,
      rootAtArchivedSize: d.databaseRoot ? base64Encode(d.databaseRoot) : null,
      note: db?.note ?? null,
      noteSource: db?.source ?? null,
    },
    finding,
    reason: null,
    conclusive: false,
    splitView: null,
    proof: db?.proof ? db.proof.map((h) => base64Encode(h)) : null,
  };
  if (!d.base.note || !db) return out;
  try {
    const r = await checkSplitView(d.base.note, db.note, await src.logKeys(origin), db.proof);
    if (r.consistent) out.finding = `${d.problem}; the two signed notes alone do not show it: ${r.detail}`;
    else
      Object.assign(out, {
        finding: r.conclusive ? r.detail : `${d.problem}; ${r.detail}`,
        reason: r.reason,
        conclusive: r.conclusive,
        splitView: r.evidence,
      });
  } catch (e) {
    out.finding = `${d.problem}; the two notes could not be checked: ${(e as Error).message}`;
  }
  return out;
}

/** The sources of a server with one log key: its origins, its verifier key, and notes signed with it in KMS. */
export function logKeyEvidenceSources(o: {
  logName: string;
  /** Every checkpoint key, retired ones included: an archived note may predate a rotation. */
  keys: CheckpointKeys;
  signer: { signEd25519(arn: string, message: Uint8Array): Promise<Uint8Array> };
}): TreeEvidenceSources {
  const origin = (issuerId: string) => `${o.logName}/${issuerId}`;
  return {
    origin,
    logKeys: async (name) =>
      Promise.all((await o.keys.all()).map(async (k) => parseVerifierKey(await formatVerifierKey(name, k.publicKey)))),
    signNote: async (issuerId, size, root) => {
      const key = await o.keys.current();
      const body = formatCheckpoint({ origin: origin(issuerId), size, root: root as Bytes, extensions: [] });
      return signNote(body, origin(issuerId), key.publicKey, (m) => o.signer.signEd25519(key.arn, m));
    },
  };
}
