/**
 * One witness, one checkpoint: C2SP tlog-witness add-checkpoint from the size the witness is known to
 * have cosigned, one resend from the witness's size after a 409, the answer verified against the
 * pinned key. Resolves to an outcome; never rejects.
 */
import type { TlogCheckpoint } from "../../../verifier/src/formats/index.js";
import type { WitnessEndpoint } from "./endpoint.js";
import type { WitnessOutcome } from "./outcome.js";
import { formatAddCheckpointBody, parseTlogSize } from "./request.js";
import { readBoundedText, refusalDetail, ResponseTooLargeError, verifyCosignatureResponse } from "./response.js";
import type { CosignedSizes } from "./state.js";

/** Builds the RFC 9162 consistency proof of the log's own tree from `from` to `to` (0 < from < to). */
export type ConsistencyProofs = (from: number, to: number) => Promise<Uint8Array[]>;

/** What {@link submitToWitness} needs besides the witness. */
export interface SubmitRequest {
  /** The signed checkpoint note, as the log publishes it. */
  note: string;
  /** `note` parsed, and its note text (what the witness cosigns). */
  checkpoint: TlogCheckpoint;
  text: string;
  state: CosignedSizes;
  proofs: ConsistencyProofs;
  /** Deadline of the whole exchange with this witness (both requests of a resync), ms. */
  timeoutMs: number;
  /** The caller's own cancellation, if any. */
  signal?: AbortSignal;
}

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

/** A failure before any HTTP answer: the log's proof, or the network. */
class ProofUnavailable extends Error {}

function networkDetail(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message ?? "fetch failed"} (${cause})` : String(err.message ?? e);
}

export async function submitToWitness(w: WitnessEndpoint, r: SubmitRequest): Promise<WitnessOutcome> {
  const started = performance.now();
  const deadline = AbortSignal.timeout(r.timeoutMs);
  const signal = r.signal ? AbortSignal.any([r.signal, deadline]) : deadline;
  const { origin, size } = r.checkpoint;
  let stateError: string | undefined;
  let oldSize = 0;
  try {
    oldSize = (await r.state.get(w.vkey, origin)) ?? 0;
  } catch (e) {
    stateError = `reading the cosigned size: ${(e as Error).message}`;
  }
  let resynced = false;
  const done = (o: Record<string, unknown> & { kind: WitnessOutcome["kind"] }): WitnessOutcome =>
    ({
      witness: w.name,
      vkey: w.vkey,
      url: w.url,
      oldSize,
      resynced,
      ms: Math.round(performance.now() - started),
      ...(stateError ? { stateError } : {}),
      ...o,
    }) as WitnessOutcome;
  const remember = async (n: number) => {
    try {
      await r.state.set(w.vkey, origin, n);
    } catch (e) {
      stateError = `recording size ${n}: ${(e as Error).message}`;
    }
  };

  const send = async (old: number): Promise<Answer> => {
    let proof: Uint8Array[] = [];
    // No proof from 0 (the spec forbids one), for equal sizes, or from above (the witness answers 400).
    if (old > 0 && old < size) {
      try {
        proof = await r.proofs(old, size);
      } catch (e) {
        throw new ProofUnavailable(`the consistency proof from ${old} to ${size}: ${(e as Error).message}`);
      }
    }
    let body: string;
    try {
      body = formatAddCheckpointBody(old, proof, r.note);
    } catch (e) {
      throw new ProofUnavailable((e as Error).message);
    }
    const res = await fetch(`${w.url}/add-checkpoint`, {
      method: "POST",
      body,
      headers: { "content-type": "text/plain; charset=utf-8" },
      signal,
      redirect: "manual",
    });
    return { status: res.status, contentType: res.headers.get("content-type"), body: await readBoundedText(res) };
  };

  try {
    let answer = await send(oldSize);
    if (answer.status === 409) {
      const known = parseTlogSize(answer.contentType, answer.body);
      if (known === undefined)
        return done({
          kind: "refused",
          status: 409,
          detail: `409 without a text/x.tlog.size body: ${refusalDetail(answer.contentType, answer.body)}`,
        });
      await remember(known);
      if (known === oldSize)
        return done({
          kind: "refused",
          status: 409,
          detail: `the witness answered 409 with the old size it was sent (${known})`,
        });
      if (known > size)
        return done({
          kind: "refused",
          status: 409,
          detail: `the witness has cosigned size ${known}, above this checkpoint's size ${size}`,
        });
      oldSize = known;
      resynced = true;
      answer = await send(known);
    }
    if (answer.status !== 200) {
      if (answer.status === 409) {
        const known = parseTlogSize(answer.contentType, answer.body);
        if (known !== undefined) await remember(known);
      }
      return done({ kind: "refused", status: answer.status, detail: refusalDetail(answer.contentType, answer.body) });
    }
    let verified;
    try {
      verified = await verifyCosignatureResponse(r.text, answer.body, w.key);
    } catch (e) {
      return done({ kind: "invalid-response", status: 200, detail: (e as Error).message });
    }
    await remember(size);
    return done({ kind: "cosigned", lines: verified.lines, timestamp: verified.timestamp });
  } catch (e) {
    if (e instanceof ProofUnavailable) return done({ kind: "log-error", detail: e.message });
    if (e instanceof ResponseTooLargeError) return done({ kind: "invalid-response", status: 0, detail: e.message });
    if (deadline.aborted) return done({ kind: "timed-out", detail: `no answer within ${r.timeoutMs} ms` });
    if (r.signal?.aborted) return done({ kind: "timed-out", detail: "the caller cancelled the request" });
    return done({ kind: "unreachable", detail: networkDetail(e) });
  }
}
