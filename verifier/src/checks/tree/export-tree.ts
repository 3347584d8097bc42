/**
 * The log v2 tree of an export: recomputes the RFC 9162 tree over the entries' leaf hashes (from
 * the workers) with O(log n) memory, checks every `tree-checkpoint` line against it (placement,
 * origin, root at its size, log signature, cosignatures), applies the witness quorum to the newest
 * one, and with `--since OLD` proves the export extends OLD. Rules in verifier/README.md
 * ("kakunin-verify log": tree checks). The tree can only be recomputed from seq 0.
 */
import { malformed, VerificationError } from "../../errors.js";
import { base64Encode, bytesEqual, type Bytes } from "../../formats/bytes.js";
import { StreamingCompactRange, type Sha256Fn } from "../../formats/compact-range.js";
import type { Json } from "../../parse/fields.js";
import type { ReportTree } from "../../report.js";
import type { SignedCheckpoint } from "../../trust/split-view.js";
import type { EntryLineResult } from "../../worker-core.js";
import { failed, indeterminate, unreadable, type CheckProblem } from "../problem.js";
import { judgeNote, logTrustPinned, type LogTrust } from "./note-trust.js";
import { openSinceCheckpoint, sinceEvidence } from "./since.js";
import { parseTreeCheckpointLine } from "./tree-line.js";
import type { QuorumEvaluation } from "../../trust/witness-quorum.js";

/** The tree options of an export verification. */
export interface TreeOptions extends LogTrust {
  /** A signed checkpoint (note text) the auditor kept: the export must extend it. */
  since?: string;
  /** SHA-256 for the tree on the verifying thread (default WebCrypto), e.g. node:crypto's. */
  treeHash?: Sha256Fn;
}

/** Where a problem goes: the export verifier's report. */
export type ProblemSink = (p: CheckProblem, where: { line?: number; seq?: number }) => void;

const treeRoot = (message: string, line?: number) =>
  failed(new VerificationError("ERR_TREE_ROOT", message, line !== undefined ? { field: "note" } : {}));
const unchecked = (message: string) => indeterminate(new VerificationError("ERR_TREE_UNCHECKED", message));

/** The newest tree-checkpoint line seen. */
interface Newest {
  line: number;
  cp: SignedCheckpoint;
  signedBy: string[];
  quorum?: QuorumEvaluation;
}

export class ExportTree {
  readonly #o: TreeOptions;
  readonly #issuer: string;
  readonly #from: number;
  readonly #sink: ProblemSink;
  readonly #range: StreamingCompactRange;
  /** A log key, a policy or --since was given: tree checks were asked for. */
  readonly asked: boolean;
  /** Why the tree stopped being the log's (entries out of order, a leaf hash missing). */
  #broken?: string;
  #origin?: string;
  #since?: SignedCheckpoint;
  #sinceRoot?: Bytes;
  #newest?: Newest;
  /** The newest line that the log signed and that matches the entries: split-view evidence. */
  #witnessed?: SignedCheckpoint;
  lines = 0;
  #rootsMatched = 0;
  #logSigned = 0;
  #notPinned = 0;
  #sinceResult?: NonNullable<ReportTree["since"]>;

  constructor(o: TreeOptions, issuer: string, from: number, sink: ProblemSink) {
    this.#o = o;
    this.#issuer = issuer;
    this.#from = from;
    this.#sink = sink;
    this.#range = new StreamingCompactRange(o.treeHash);
    this.asked = logTrustPinned(o) || o.since !== undefined;
  }

  /** The tree is recomputed over the entries (the export starts at seq 0). */
  get recomputing(): boolean {
    return this.#from === 0 && this.#broken === undefined;
  }

  /** Before the first entry: opens the --since checkpoint. */
  async start(): Promise<void> {
    if (this.#o.since === undefined) return;
    try {
      this.#since = await openSinceCheckpoint(this.#o.since, this.#o);
    } catch (e) {
      this.#sinceResult = { size: -1, root: "", status: "not-checked", detail: (e as Error).message };
      this.#sink(indeterminate(e as VerificationError), {});
      return;
    }
    if (this.#since.checkpoint.size === 0) this.#sinceRoot = await this.#range.root();
  }

  /** One entry, in export order (its leaf hash, or the worker's subtree ending at it, came from the worker). */
  leaf(r: EntryLineResult): void | Promise<void> {
    if (!this.recomputing) return;
    if (!r.leafHash) {
      this.#broken = `no leaf hash for seq ${r.entry.seq} (this verifier's pool does not compute them)`;
      return;
    }
    if (r.entry.seq !== this.#range.size) {
      this.#broken = `the entries are not contiguous from seq 0 (seq ${r.entry.seq} where ${this.#range.size} belongs)`;
      return;
    }
    let p;
    try {
      p = this.#range.appendEnding(r.leafHash, r.treeHeight ?? 0);
    } catch (e) {
      this.#broken = `seq ${r.entry.seq}: ${(e as Error).message}`;
      return;
    }
    if (p) return p.then(() => this.#appended());
    return this.#appended();
  }

  #appended(): void | Promise<void> {
    if (this.#since && this.#range.size === this.#since.checkpoint.size)
      return this.#range.root().then((r) => {
        this.#sinceRoot = r;
      });
  }

  /** A tree-checkpoint line at `line`; `lastSeq`: the seq of the last entry before it. */
  async line(v: Json, line: number, lastSeq: number | undefined): Promise<void> {
    this.lines++;
    let t;
    try {
      t = parseTreeCheckpointLine(v);
    } catch (e) {
      this.#sink(unreadable(e), { line });
      return;
    }
    const cp = t.checkpoint;
    const where = `line ${line} (tree checkpoint of size ${cp.size})`;
    const slash = cp.origin.lastIndexOf("/");
    if (slash <= 0 || cp.origin.slice(slash + 1) !== this.#issuer) {
      this.#sink(treeRoot(`${where}: origin "${cp.origin}" is not <log name>/${this.#issuer}`, line), { line });
      return;
    }
    if (this.#origin !== undefined && cp.origin !== this.#origin) {
      this.#sink(treeRoot(`${where}: origin "${cp.origin}", an earlier line has "${this.#origin}"`, line), { line });
      return;
    }
    this.#origin = cp.origin;
    const expected = lastSeq === undefined ? this.#from : lastSeq + 1;
    if (cp.size !== expected) {
      this.#sink(unreadable(malformed(`${where} must follow entry ${cp.size - 1}`, { field: "note" })), { line });
      return;
    }
    let rootOk = false;
    if (this.recomputing) {
      const root = await this.#range.root();
      rootOk = bytesEqual(root, cp.root);
      if (rootOk) this.#rootsMatched++;
      else
        this.#sink(
          treeRoot(
            `${where}: root ${base64Encode(cp.root)}, but the export's entries give ${base64Encode(root)} at that size`,
            line,
          ),
          { line },
        );
    }
    const j = await judgeNote(t.note, cp.origin, this.#o, where);
    for (const p of j.problems) this.#sink(p, { line });
    if (j.log === "verified") this.#logSigned++;
    if (j.log === "not-pinned") this.#notPinned++;
    const signed: SignedCheckpoint = { note: t.note, checkpoint: cp };
    if (!this.#newest || cp.size >= this.#newest.cp.checkpoint.size)
      this.#newest = { line, cp: signed, signedBy: j.signedBy, ...(j.quorum ? { quorum: j.quorum } : {}) };
    if (j.log === "verified" && rootOk && j.problems.length === 0) this.#witnessed = signed;
  }

  /** After the last line: the quorum, --since, and what could not be checked. */
  async finish(): Promise<ReportTree> {
    const n = this.#newest;
    if (n?.quorum && !n.quorum.quorumMet && n.quorum.invalid.length === 0)
      this.#sink(
        indeterminate(
          new VerificationError(
            "ERR_WITNESS_QUORUM",
            `line ${n.line} (the newest tree checkpoint, size ${n.cp.checkpoint.size}): ${n.quorum.summary}; missing: ${n.quorum.missing.join(", ") || "none"}`,
            { field: "note" },
          ),
        ),
        { line: n.line },
      );
    const why =
      this.#from !== 0 ? `the export starts at seq ${this.#from}: the tree needs every entry from seq 0` : this.#broken;
    if (this.asked && why && !this.#sinceResult) this.#sink(unchecked(`tree not checked: ${why}`), {});
    if (this.#since && !this.#sinceResult) this.#sinceResult = this.#judgeSince(why);
    const root = this.recomputing ? base64Encode(await this.#range.root()) : undefined;
    return {
      recomputed: root !== undefined,
      ...(root !== undefined ? { size: this.#range.size, root } : { notRecomputed: why! }),
      signatures:
        this.lines === 0
          ? "none"
          : this.#notPinned > 0
            ? "not-pinned"
            : this.#logSigned === this.lines
              ? "verified"
              : "failed",
      checkpoints: {
        lines: this.lines,
        rootsMatched: this.#rootsMatched,
        logSigned: this.#logSigned,
        ...(n
          ? {
              newest: {
                line: n.line,
                origin: n.cp.checkpoint.origin,
                size: n.cp.checkpoint.size,
                root: base64Encode(n.cp.checkpoint.root),
                signedBy: n.signedBy,
                ...(n.quorum
                  ? { quorumMet: n.quorum.quorumMet, cosigned: n.quorum.cosigned, missing: n.quorum.missing }
                  : {}),
              },
            }
          : {}),
      },
      ...(this.#sinceResult ? { since: this.#sinceResult } : {}),
    };
  }

  #judgeSince(why: string | undefined): NonNullable<ReportTree["since"]> {
    const old = this.#since!;
    const { origin, size } = old.checkpoint;
    const base = { origin, size, root: base64Encode(old.checkpoint.root) };
    const notChecked = (detail: string) => {
      this.#sink(unchecked(`--since: ${detail}`), {});
      return { ...base, status: "not-checked" as const, detail };
    };
    const slash = origin.lastIndexOf("/");
    if (
      (this.#origin !== undefined && origin !== this.#origin) ||
      slash <= 0 ||
      origin.slice(slash + 1) !== this.#issuer
    )
      return notChecked(`the checkpoint is of "${origin}", not of this export's log (issuer ${this.#issuer})`);
    if (this.#sinceRoot === undefined) {
      if (why) return notChecked(why);
      return notChecked(`the export's tree reaches size ${this.#range.size}, the checkpoint has size ${size}`);
    }
    if (bytesEqual(this.#sinceRoot, old.checkpoint.root))
      return { ...base, status: "extended", detail: `the export's entries give the checkpoint's root at size ${size}` };
    const detail = `the log showed two histories: the checkpoint kept from before has root ${base.root} at size ${size}, the export's entries give ${base64Encode(this.#sinceRoot)}`;
    this.#sink(failed(new VerificationError("ERR_CONSISTENCY", `--since: ${detail}`)), {});
    const w = this.#witnessed;
    return {
      ...base,
      status: "not-extended",
      detail: w
        ? `${detail}; the log signed the export's tree at size ${w.checkpoint.size}`
        : `${detail}; the export has no tree checkpoint signed by a pinned key that matches its entries`,
      ...(w
        ? {
            evidence: sinceEvidence(
              `${detail}; the log's note of size ${w.checkpoint.size} is from the export`,
              old,
              w,
            ),
          }
        : {}),
    };
  }
}

/** The report step's detail for an export's tree. */
export function treeStepDetail(t: ReportTree | undefined): string {
  if (!t) return "";
  const tree = t.recomputed
    ? `tree of ${t.size} leaves recomputed (root ${t.root})`
    : `tree not recomputed: ${t.notRecomputed}`;
  const lines = `${t.checkpoints.lines} tree checkpoint(s), ${t.checkpoints.rootsMatched} root(s) matched`;
  const sigs =
    t.signatures === "not-pinned"
      ? "signatures not checked: no log key pinned (--log-key, --policy)"
      : `${t.checkpoints.logSigned} signed by a pinned log key`;
  return `${tree}; ${lines}; ${sigs}${t.since ? `; --since: ${t.since.status}` : ""}`;
}
