/**
 * C2SP tlog-witness add-checkpoint: parse the request, check it against the latest cosigned checkpoint
 * of its origin, cosign, persist, answer. One request per origin at a time (an in-process queue), and
 * the write is a compare-and-set, so the spec's rollback race cannot happen.
 */
import {
  bytesEqual,
  emptyRoot,
  formatNote,
  openNote,
  parseCheckpoint,
  parseNote,
  signCosignature,
  verifyConsistency,
  type TlogCheckpoint,
  type NoteSignature,
} from "../../verifier/src/formats/index.js";
import { base64Decode, base64Encode } from "../../verifier/src/formats/bytes.js";
import type { WitnessSigner } from "./signer.js";
import type { Stores } from "./store.js";
import type { TrustedLogs } from "./trust.js";

/** An HTTP answer: status, content type and body. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
  /** Set when the request carried a valid log signature but was refused (logged as evidence). */
  refusal?: { origin: string; reason: string };
}

/** The spec caps consistency proofs at 63 lines. */
const MAX_PROOF_LINES = 63;

function problem(status: number, code: string, detail: string): Answer {
  return {
    status,
    contentType: "application/problem+json",
    body: JSON.stringify({ type: "about:blank", status, code, title: code, detail }),
  };
}

interface Request {
  oldSize: number;
  proof: Uint8Array[];
  note: string;
}

function parseRequest(body: string): Request | Answer {
  const bad = (detail: string) => problem(400, "ERR_WITNESS_REQUEST", detail);
  const blank = body.indexOf("\n\n");
  if (blank < 0) return bad("the body needs an old size line, proof lines, a blank line and a checkpoint");
  const head = body.slice(0, blank).split("\n");
  const oldLine = head[0]!;
  const m = /^old (0|[1-9][0-9]*)$/.exec(oldLine);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return bad('line 1 must be "old <size>" (decimal, no leading zeroes)');
  const lines = head.slice(1);
  if (lines.length > MAX_PROOF_LINES) return bad(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof: Uint8Array[] = [];
  for (const [i, line] of lines.entries()) {
    let h: Uint8Array;
    try {
      h = base64Decode(line, "proof");
    } catch {
      return bad(`line ${i + 2}: a proof line must be base64`);
    }
    if (h.length !== 32 || base64Encode(h) !== line)
      return bad(`line ${i + 2}: a proof line must be canonical base64 of 32 bytes`);
    proof.push(h);
  }
  return { oldSize: Number(m[1]), proof, note: body.slice(blank + 2) };
}

/** Serialises work per origin so checks and updates of one origin never interleave. */
class OriginQueue {
  readonly #tails = new Map<string, Promise<unknown>>();
  run<T>(origin: string, task: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(origin) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.#tails.set(origin, tail);
    void tail.then(() => {
      if (this.#tails.get(origin) === tail) this.#tails.delete(origin);
    });
    return next;
  }
}

/** The add-checkpoint handler's dependencies. */
export interface AddCheckpointDeps {
  name: string;
  signer: WitnessSigner;
  logs: TrustedLogs;
  stores: Stores;
  /** POSIX seconds for cosignature timestamps. */
  now?: () => number;
}

/** Builds the add-checkpoint handler: body text in, answer out. */
export function addCheckpointHandler(deps: AddCheckpointDeps): (body: string) => Promise<Answer> {
  const queue = new OriginQueue();
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));

  return async (body) => {
    const req = parseRequest(body);
    if ("status" in req) return req;
    let checkpoint: TlogCheckpoint;
    try {
      const note = parseNote(req.note);
      checkpoint = parseCheckpoint(note.text);
    } catch (e) {
      return problem(
        400,
        "ERR_WITNESS_CHECKPOINT",
        `the checkpoint is not a valid signed note: ${(e as Error).message}`,
      );
    }
    const keys = await deps.logs.keysFor(checkpoint.origin);
    if (keys.length === 0)
      return problem(404, "ERR_WITNESS_UNKNOWN_LOG", `this witness does not follow origin "${checkpoint.origin}"`);
    let text: string;
    let logSignatures: NoteSignature[];
    try {
      const opened = await openNote(req.note, keys);
      text = opened.text;
      logSignatures = opened.verified;
    } catch (e) {
      return problem(
        403,
        "ERR_WITNESS_LOG_SIGNATURE",
        `no valid signature by a trusted key of "${checkpoint.origin}": ${(e as Error).message}`,
      );
    }
    const refuse = (a: Answer, reason: string): Answer => ({ ...a, refusal: { origin: checkpoint.origin, reason } });
    if (req.oldSize > checkpoint.size) {
      return refuse(
        problem(400, "ERR_WITNESS_OLD_SIZE", `old size ${req.oldSize} is above the checkpoint size ${checkpoint.size}`),
        "old size above checkpoint size",
      );
    }
    const store = deps.stores.forOrigin(checkpoint.origin);

    return queue.run(checkpoint.origin, async () => {
      const latest = store.latest();
      const latestSize = latest?.size ?? 0;
      const conflict = (size: number): Answer =>
        refuse(
          { status: 409, contentType: "text/x.tlog.size", body: `${size}\n` },
          `old size ${req.oldSize} is not the latest cosigned size ${size}`,
        );
      if (req.oldSize !== latestSize) return conflict(latestSize);
      const inconsistent = (detail: string) => refuse(problem(422, "ERR_WITNESS_CONSISTENCY", detail), detail);
      if (checkpoint.size === 0 && !bytesEqual(checkpoint.root, await emptyRoot()))
        return inconsistent("a checkpoint of size 0 must have the empty tree's root");
      if (req.oldSize === 0) {
        if (req.proof.length !== 0) return inconsistent("the consistency proof must be empty when the old size is 0");
      } else if (req.oldSize === checkpoint.size) {
        if (req.proof.length !== 0 || !bytesEqual(latest!.root, checkpoint.root)) {
          return inconsistent(
            `size ${checkpoint.size} was cosigned with another root hash (or a proof was sent for equal sizes)`,
          );
        }
      } else {
        try {
          await verifyConsistency(req.oldSize, checkpoint.size, latest!.root, checkpoint.root, req.proof);
        } catch (e) {
          return inconsistent(
            `the consistency proof from ${req.oldSize} to ${checkpoint.size} does not verify: ${(e as Error).message}`,
          );
        }
      }
      let line: string;
      try {
        line = await signCosignature(text, deps.name, deps.signer.publicKey, now(), deps.signer.sign);
      } catch (e) {
        return problem(503, "ERR_WITNESS_SIGNER", `the witness could not sign: ${(e as Error).message}`);
      }
      const stored = formatNote({ text, signatures: logSignatures }) + line;
      const cas = store.compareAndSet(latestSize, { size: checkpoint.size, root: checkpoint.root, note: stored });
      if (!cas.ok) return conflict(cas.size);
      return { status: 200, contentType: "text/plain; charset=utf-8", body: line };
    });
  };
}
