/**
 * What every batch goes through (server/log/batch-steps.ts) and the SQLite launch rule
 * (pipelined-runner.ts): deadlines, the committable prefix, re-queueing in order, retry limits and
 * back-off, head conflicts. No database and no KMS: the signer is a stand-in that fails on cue (KMS
 * itself is exercised by test/integration/log), the steps are what is checked.
 */
import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import type { Database } from "../../../../server/db/schema.js";
import {
  KakuninError,
  KeyStateError,
  KmsUnavailableError,
  OverloadedError,
  ValidationError,
} from "../../../../server/errors.js";
import { BatchSteps, retryable, retryBackoffMs } from "../../../../server/log/batch-steps.js";
import type { CheckpointPublisher } from "../../../../server/log/checkpoints.js";
import { mayLaunch } from "../../../../server/log/pipelined-runner.js";
import {
  IssuerQueue,
  type AppendRequest,
  type Appended,
  type Pending,
  type ResolvedSigner,
} from "../../../../server/log/sequencer.js";
import { asKmsError, firstFailure } from "../../../../server/log/signer.js";
import { ChainConflictError } from "../../../../server/log/storage/log-store.js";
import {
  CONFLICT_BACKOFF_MS,
  DEFAULT_LAUNCH_INTERVAL_MS,
  DEFAULT_MAX_BATCH,
  DEFAULT_MAX_IN_FLIGHT,
  RETRY_BACKOFF_MAX_MS,
} from "../../../../server/log/tuning.js";

const HEAD = { size: 0, head: "0".repeat(64), time: "" };
const LOG_SIGNER = { keyArn: "arn:log", certSerial: "01", certificatePem: "LOG PEM" };
const agentSigner = (key: string): ResolvedSigner => ({
  ref: { cert: "0a", key, alg: "RSASSA_PSS_SHA_256" },
  certificatePem: "PEM",
});

/** A request with its outcome recorded. */
interface Tracked extends Pending {
  outcome?: { ok: true; value: Appended } | { ok: false; error: unknown };
}
function tracked(req: Partial<AppendRequest> = {}, extra: Partial<Pending> = {}): Tracked {
  const p: Tracked = {
    req: { issuerId: "iss_1", type: "agent.operation", agent: "agt_1", payloadHash: "ab".repeat(32), ...req },
    attempts: 0,
    conflicts: 0,
    deadline: Infinity,
    resolve: (value) => (p.outcome = { ok: true, value }),
    reject: (error) => (p.outcome = { ok: false, error }),
    ...extra,
  };
  return p;
}

/** Steps with a signer that fails for the keys in `failing` (with the error given). */
function setup(
  failing: Map<string, unknown> = new Map(),
  o: { clockGuard?: { check(now: Date): void }; maxAttempts?: number; maxConflicts?: number } = {},
) {
  const notified: string[] = [];
  const steps = new BatchSteps({
    db: undefined as unknown as Kysely<Database>, // signer resolution (the only database use) is not exercised here
    custody: {
      async signDigest(arn: string) {
        if (failing.has(arn)) throw failing.get(arn);
        return new Uint8Array([1, 2, 3]);
      },
    },
    logSigner: LOG_SIGNER,
    publisher: { notify: (issuer: string) => notified.push(issuer) } as unknown as CheckpointPublisher,
    now: () => new Date("2026-12-02T18:00:00.000Z"),
    maxAttempts: o.maxAttempts ?? 3,
    requestDeadlineMs: 5000,
    maxConflicts: o.maxConflicts ?? 20,
    ...(o.clockGuard ? { clockGuard: o.clockGuard } : {}),
  });
  return { steps, notified, q: new IssuerQueue("iss_1", 100) };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("BatchSteps.sign + settle", () => {
  it("resolves a fully signed batch only once its commit is durable, then asks for a checkpoint", async () => {
    const { steps, notified, q } = setup();
    const ps = [tracked(), tracked(), tracked()];
    const signed = await steps.sequenceAndSign(
      HEAD,
      ps.map((p) => ({ pending: p, signer: agentSigner("arn:a") })),
    );
    expect(signed.items).toHaveLength(3);
    let durable!: () => void;
    const backoff = steps.settle(q, signed, new Promise<void>((r) => (durable = r)));
    expect(backoff).toBe(0);
    await flush();
    expect(ps.every((p) => p.outcome === undefined)).toBe(true);
    durable();
    await flush();
    expect(ps.map((p) => p.outcome?.ok)).toEqual([true, true, true]);
    expect(ps.map((p) => (p.outcome as { value: Appended }).value.entry.seq)).toEqual([0, 1, 2]);
    expect(notified).toEqual(["iss_1"]);
    expect(steps.stats).toMatchObject({ batches: 1, committed: 3, largestBatch: 3 });
    expect(q.length).toBe(0);
  });

  it("commits the prefix before the first failed signature and re-queues the rest at the front, in order", async () => {
    const { steps, q } = setup(new Map([["arn:bad", new KmsUnavailableError("throttled", 1)]]));
    const waiting = tracked(); // arrived meanwhile
    q.push(waiting);
    const ps = [tracked(), tracked(), tracked({ agent: "agt_bad" }), tracked()];
    const signers = ["arn:a", "arn:a", "arn:bad", "arn:a"];
    const signed = await steps.sequenceAndSign(
      HEAD,
      ps.map((p, i) => ({ pending: p, signer: agentSigner(signers[i]!) })),
    );
    expect(signed.items.map((i) => i.entry.seq)).toEqual([0, 1]);
    const backoff = steps.settle(q, signed);
    expect(backoff).toBe(retryBackoffMs(1));
    expect(ps[0]!.outcome?.ok).toBe(true);
    expect(ps[1]!.outcome?.ok).toBe(true);
    // Entry 3 signed fine but follows the failed one: re-queued too, never committed on a stale prevHash.
    expect(q.take(10)).toEqual([ps[2], ps[3], waiting]);
    expect(ps[2]!.attempts).toBe(1);
    expect(ps[2]!.outcome).toBeUndefined();
    expect(ps[2]!.lastError).toBeInstanceOf(KmsUnavailableError);
    expect(ps[3]!.attempts).toBe(0);
    expect(steps.stats.signFailures).toBe(1);
  });

  it("fails a request once its signing attempts are used up, with the KMS error", async () => {
    const err = new KmsUnavailableError("down", 1);
    const { steps, q } = setup(new Map([["arn:bad", err]]), { maxAttempts: 3 });
    const p = tracked({}, { attempts: 2 });
    steps.settle(q, await steps.sequenceAndSign(HEAD, [{ pending: p, signer: agentSigner("arn:bad") }]));
    expect(p.outcome).toEqual({ ok: false, error: err });
    expect(q.length).toBe(0);
  });

  it("fails at once on an error that is not retryable; anything unclassified counts as KMS unavailable", async () => {
    const refusal = new ValidationError("no");
    const { steps, q } = setup(
      new Map<string, unknown>([
        ["arn:refused", refusal],
        ["arn:odd", new Error("socket hang up")],
      ]),
    );
    const a = tracked();
    const b = tracked();
    steps.settle(
      q,
      await steps.sequenceAndSign(HEAD, [
        { pending: a, signer: agentSigner("arn:refused") },
        { pending: b, signer: agentSigner("arn:odd") },
      ]),
    );
    expect(a.outcome).toEqual({ ok: false, error: refusal });
    expect(b.outcome).toBeUndefined();
    expect(b.lastError).toBeInstanceOf(KmsUnavailableError);
    expect(q.take(10)).toEqual([b]);
  });

  it("never acknowledges a commit whose sync to disk failed", async () => {
    const { steps, notified, q } = setup();
    const p = tracked();
    const syncError = new Error("EIO");
    steps.settle(
      q,
      await steps.sequenceAndSign(HEAD, [{ pending: p, signer: agentSigner("arn:a") }]),
      Promise.reject(syncError),
    );
    await flush();
    expect(p.outcome).toEqual({ ok: false, error: syncError });
    expect(notified).toEqual([]);
  });
});

describe("BatchSteps.commitFailed", () => {
  it("re-queues everything at the front on a head conflict, forgets the cached head and backs off", () => {
    const { steps, q } = setup();
    q.head = HEAD;
    const later = tracked();
    q.push(later);
    const ps = [tracked(), tracked()];
    expect(
      steps.commitFailed(
        q,
        ps.map((p) => ({ pending: p })),
        new ChainConflictError("iss_1"),
      ),
    ).toBe(CONFLICT_BACKOFF_MS);
    expect(q.head).toBeUndefined();
    expect(q.take(10)).toEqual([ps[0], ps[1], later]);
    expect(ps.map((p) => p.conflicts)).toEqual([1, 1]);
    expect(steps.stats.conflicts).toBe(1);
  });

  it("gives up on a request after too many conflicts (503 ERR_OVERLOADED)", () => {
    const { steps, q } = setup(new Map(), { maxConflicts: 2 });
    const tired = tracked({}, { conflicts: 2 });
    const fresh = tracked();
    steps.commitFailed(q, [{ pending: tired }, { pending: fresh }], new ChainConflictError("iss_1"));
    expect(tired.outcome?.ok).toBe(false);
    expect((tired.outcome as { error: unknown }).error).toBeInstanceOf(OverloadedError);
    expect(q.take(10)).toEqual([fresh]);
  });

  it("fails the whole batch on any other database error", () => {
    const { steps, q } = setup();
    const e = new Error("disk I/O error");
    const ps = [tracked(), tracked()];
    expect(
      steps.commitFailed(
        q,
        ps.map((p) => ({ pending: p })),
        e,
      ),
    ).toBe(0);
    expect(ps.map((p) => p.outcome)).toEqual([
      { ok: false, error: e },
      { ok: false, error: e },
    ]);
    expect(q.length).toBe(0);
  });
});

describe("BatchSteps.live", () => {
  it("fails requests past their deadline with the last KMS error they saw (or a deadline error), keeps the rest", () => {
    const { steps } = setup();
    const seen = new KmsUnavailableError("throttled", 1);
    const expiredWithError = tracked({}, { deadline: 0, lastError: seen });
    const expired = tracked({}, { deadline: 0 });
    const ok = tracked();
    expect(steps.live([expiredWithError, ok, expired])).toEqual([ok]);
    expect(expiredWithError.outcome).toEqual({ ok: false, error: seen });
    const e = (expired.outcome as { error: KakuninError }).error;
    expect(e).toBeInstanceOf(KmsUnavailableError);
    expect(e.message).toMatch(/within the request deadline \(5000 ms\)/);
    const all = [tracked(), tracked()];
    expect(steps.live(all)).toBe(all); // nothing expired: the batch itself, no copy
  });

  it("fails the whole batch while the clock guard refuses (nothing is sequenced with a wrong time)", () => {
    const skew = new Error("clock skew");
    const { steps } = setup(new Map(), {
      clockGuard: {
        check: () => {
          throw skew;
        },
      },
    });
    const ps = [tracked(), tracked()];
    expect(steps.live(ps)).toEqual([]);
    expect(ps.map((p) => p.outcome)).toEqual([
      { ok: false, error: skew },
      { ok: false, error: skew },
    ]);
  });
});

describe("retry policy", () => {
  it("retries KMS unavailability; a key-state error once, and only for an agent's operation", () => {
    const op = (attempts: number) => ({
      req: { issuerId: "i", type: "agent.operation" as const, agent: "a", payloadHash: "" },
      attempts,
    });
    const lifecycle = {
      req: { issuerId: "i", type: "key.rotated" as const, agent: "a", payloadHash: "" },
      attempts: 1,
    };
    expect(retryable(new KmsUnavailableError(), op(5))).toBe(true);
    expect(retryable(new KeyStateError("disabled"), op(1))).toBe(true);
    expect(retryable(new KeyStateError("disabled"), op(2))).toBe(false);
    expect(retryable(new KeyStateError("disabled"), lifecycle)).toBe(false);
    expect(retryable(new ValidationError("x"), op(1))).toBe(false);
  });

  it("backs off exponentially from 40 ms, capped", () => {
    expect([1, 2, 3, 4, 5, 10].map(retryBackoffMs)).toEqual([
      40,
      80,
      160,
      320,
      RETRY_BACKOFF_MAX_MS,
      RETRY_BACKOFF_MAX_MS,
    ]);
  });

  it("finds the committable prefix; classifies unknown signing errors as KMS unavailable", () => {
    const err = new KmsUnavailableError();
    expect(
      firstFailure([
        { ok: true, sig: "a" },
        { ok: false, error: err },
        { ok: true, sig: "b" },
      ]),
    ).toBe(1);
    expect(firstFailure([{ ok: true, sig: "a" }])).toBe(1);
    expect(firstFailure([])).toBe(0);
    expect(asKmsError(err)).toBe(err);
    expect(asKmsError(new Error("x"))).toBeInstanceOf(KmsUnavailableError);
  });
});

describe("mayLaunch (SQLite pipeline)", () => {
  const l = {
    maxBatch: DEFAULT_MAX_BATCH,
    maxInFlight: DEFAULT_MAX_IN_FLIGHT,
    launchIntervalMs: DEFAULT_LAUNCH_INTERVAL_MS,
  };
  it("launches the first batch at once, never with nothing queued or with the pipeline full", () => {
    expect(mayLaunch(1, 0, 0, l)).toBe(true);
    expect(mayLaunch(0, 0, Infinity, l)).toBe(false);
    expect(mayLaunch(DEFAULT_MAX_BATCH * 2, DEFAULT_MAX_IN_FLIGHT, Infinity, l)).toBe(false);
  });
  it("while one is signing: after the launch interval, or at once when a full batch is queued", () => {
    expect(mayLaunch(10, 1, DEFAULT_LAUNCH_INTERVAL_MS - 1, l)).toBe(false);
    expect(mayLaunch(10, 1, DEFAULT_LAUNCH_INTERVAL_MS, l)).toBe(true);
    expect(mayLaunch(DEFAULT_MAX_BATCH, 1, 0, l)).toBe(true);
    expect(mayLaunch(DEFAULT_MAX_BATCH - 1, 3, 0, l)).toBe(false);
  });
});
