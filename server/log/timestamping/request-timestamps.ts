/**
 * Asks every configured TSA, in parallel, for an RFC 3161 token over a checkpoint text (imprint
 * SHA-256 of the text, certReq, a random nonce) and checks each reply with the verifier's client
 * (status, imprint, nonce, policy, signature, ESSCertID, TSA certificate, path to the pinned list).
 * Each TSA ends in exactly one outcome, within a bound (attempts × deadline + back-off); nothing
 * here throws, so a TSA outage can never reach the append path.
 */
import { createHash } from "node:crypto";
import {
  fetchTimestamp,
  subjectName,
  TimestampRejectedError,
  TimestampUnavailableError,
} from "../../../verifier/src/timestamp/index.js";
import { VerificationError } from "../../../verifier/src/errors.js";

interface OutcomeBase {
  url: string;
  /** Requests sent to this TSA for this checkpoint. */
  attempts: number;
  /** Wall time spent on this TSA, ms, retries and back-off included. */
  ms: number;
}

/** How asking one TSA ended. Messages never carry secrets (URLs have no credentials: config.ts). */
export type TsaOutcome =
  | (OutcomeBase & {
      kind: "token";
      /** DER TimeStampToken, verified. */
      token: Uint8Array;
      genTime: Date;
      serialNumber: string;
      policy: string;
      /** Subject of the TSA certificate that signed. */
      tsaName: string;
      accuracyMs?: number;
    })
  /** The TSA answered with a PKIStatus other than granted. */
  | (OutcomeBase & { kind: "refused"; status: number; failInfo: readonly string[]; message: string })
  /** The TSA answered, but the reply does not check out (wrong nonce or imprint, bad signature, untrusted signer, not DER): never retried. */
  | (OutcomeBase & { kind: "invalid"; code: string; message: string })
  /** No complete answer within the deadline. */
  | (OutcomeBase & { kind: "timeout"; message: string })
  /** No connection, or an HTTP answer that is not a TimeStampResp (status, content type, size). */
  | (OutcomeBase & { kind: "unreachable"; message: string });

export interface RequestTimestampsOptions {
  urls: readonly string[];
  /** Pinned TSA trust list (DER). */
  trusted: readonly Uint8Array[];
  /** Deadline per request, ms. */
  timeoutMs: number;
  /** Requests per TSA, the first included (≥ 1). */
  attempts: number;
  /** Pause before retry k is k × this, ms (default 250). */
  backoffMs?: number;
  /** TSAPolicyId to ask for; when set the token must carry it. */
  policy?: string;
  /** Cancels everything (shutdown); pending TSAs end as `timeout`. */
  signal?: AbortSignal;
  /** Injectable fetch (tests). */
  fetch?: typeof fetch;
}

/** Refusals worth asking again: the TSA's own transient trouble (RFC 3161 failInfo). */
const TRANSIENT_FAIL_INFO = new Set(["systemFailure", "timeNotAvailable"]);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** An outcome before url/attempts/ms are known (Omit distributed over the union). */
type Ending = TsaOutcome extends infer T ? (T extends unknown ? Omit<T, keyof OutcomeBase> : never) : never;
type Attempt = { outcome: Ending; retry: boolean };

async function once(url: string, imprint: Uint8Array, o: RequestTimestampsOptions): Promise<Attempt> {
  try {
    const ts = await fetchTimestamp(url, imprint, {
      trusted: o.trusted,
      timeoutMs: o.timeoutMs,
      certReq: true,
      ...(o.policy ? { policy: o.policy, acceptedPolicies: [o.policy] } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.fetch ? { fetch: o.fetch } : {}),
    });
    const outcome: Ending = {
      kind: "token",
      token: ts.token,
      genTime: ts.genTime,
      serialNumber: ts.serialNumber,
      policy: ts.policy,
      tsaName: subjectName(ts.signer),
    };
    if (ts.accuracyMs !== undefined) outcome.accuracyMs = ts.accuracyMs;
    return { outcome, retry: false };
  } catch (err) {
    if (err instanceof TimestampUnavailableError) {
      const kind = err.reason === "timeout" ? "timeout" : "unreachable";
      return { outcome: { kind, message: err.message }, retry: !o.signal?.aborted };
    }
    if (err instanceof TimestampRejectedError) {
      return {
        outcome: { kind: "refused", status: err.status, failInfo: err.failInfo, message: err.message },
        retry: err.failInfo.some((f) => TRANSIENT_FAIL_INFO.has(f)),
      };
    }
    const code = err instanceof VerificationError ? err.code : "ERR_TSA_MALFORMED";
    return { outcome: { kind: "invalid", code, message: (err as Error).message }, retry: false };
  }
}

async function askOne(url: string, imprint: Uint8Array, o: RequestTimestampsOptions): Promise<TsaOutcome> {
  const started = performance.now();
  const attempts = Math.max(1, Math.floor(o.attempts));
  let last: Attempt | undefined;
  let sent = 0;
  while (sent < attempts) {
    if (sent > 0) await sleep(sent * (o.backoffMs ?? 250), o.signal);
    if (o.signal?.aborted && last) break;
    sent++;
    last = await once(url, imprint, o);
    if (!last.retry) break;
  }
  return { ...last!.outcome, url, attempts: sent, ms: Math.round(performance.now() - started) };
}

/** One outcome per URL, in the order of `urls`. Never rejects. */
export async function requestCheckpointTimestamps(
  checkpointText: string,
  o: RequestTimestampsOptions,
): Promise<TsaOutcome[]> {
  const imprint = new Uint8Array(createHash("sha256").update(checkpointText, "utf8").digest());
  const settled = await Promise.allSettled(o.urls.map((url) => askOne(url, imprint, o)));
  return settled.map((s, i) =>
    s.status === "fulfilled"
      ? s.value
      : {
          kind: "invalid",
          code: "ERR_INTERNAL",
          message: `timestamping failed: ${(s.reason as Error)?.message ?? String(s.reason)}`,
          url: o.urls[i]!,
          attempts: 0,
          ms: 0,
        },
  );
}
