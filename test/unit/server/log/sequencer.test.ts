/** Batch sequencing and the per-issuer queue (server/log/sequencer.ts): pure, no database, no KMS. */
import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import { OverloadedError } from "../../../../server/errors.js";
import {
  IssuerQueue,
  sequenceBatch,
  type AppendRequest,
  type Pending,
  type ResolvedSigner,
} from "../../../../server/log/sequencer.js";

const ZEROS = "0".repeat(64);
const SIGNER: ResolvedSigner = {
  ref: { cert: "0a", key: "arn:aws:kms:eu-west-1:111122223333:key/agent", alg: "RSASSA_PSS_SHA_256" },
  certificatePem: "PEM",
};

function pending(req: Partial<AppendRequest> = {}): Pending {
  return {
    req: { issuerId: "iss_1", type: "agent.operation", agent: "agt_1", payloadHash: "ab".repeat(32), ...req },
    attempts: 0,
    conflicts: 0,
    deadline: Infinity,
    resolve: () => undefined,
    reject: () => undefined,
  };
}

describe("sequenceBatch", () => {
  it("numbers entries from the head, links each to the previous hash and hashes the RFC 8785 bytes", () => {
    const items = [pending(), pending({ agent: "agt_2", details: { contentType: "application/json" } }), pending()].map(
      (p) => ({ pending: p, signer: SIGNER }),
    );
    const now = new Date("2026-12-02T18:00:00.000Z");
    const { entries, head } = sequenceBatch(
      { size: 7, head: "cd".repeat(32), time: "2026-12-02T17:00:00.000Z" },
      items,
      now,
    );
    expect(entries.map((e) => e.unsigned.seq)).toEqual([7, 8, 9]);
    expect(entries[0]!.unsigned.prevHash).toBe("cd".repeat(32));
    expect(entries[1]!.unsigned.prevHash).toBe(entries[0]!.hash);
    expect(entries[2]!.unsigned.prevHash).toBe(entries[1]!.hash);
    for (const e of entries) {
      // Independent of the server's canonical module: npm canonicalize + node:crypto.
      const expected = createHash("sha256").update(canonicalize(e.unsigned)!, "utf8").digest();
      expect(e.hash).toBe(expected.toString("hex"));
      expect(Buffer.from(e.digest)).toEqual(expected);
      expect(e.unsigned.time).toBe(now.toISOString());
      expect(e.signer).toBe(SIGNER);
    }
    expect(head).toEqual({ size: 10, head: entries[2]!.hash, time: now.toISOString() });
  });

  it("keeps the stored JSON in canonical key order, so it carries the signed bytes verbatim", () => {
    const { entries } = sequenceBatch(
      { size: 0, head: ZEROS, time: "" },
      [{ pending: pending({ details: { z: 1, a: 2 } }), signer: SIGNER }],
      new Date(0),
    );
    const e = entries[0]!;
    expect(JSON.stringify(e.unsigned)).toBe(canonicalize(e.unsigned));
    expect(Object.keys(e.unsigned)).toEqual([
      "agent",
      "details",
      "issuer",
      "payloadHash",
      "prevHash",
      "seq",
      "signer",
      "time",
      "type",
      "v",
    ]);
  });

  it("omits details when the request has none", () => {
    const { entries } = sequenceBatch(
      { size: 0, head: ZEROS, time: "" },
      [{ pending: pending(), signer: SIGNER }],
      new Date(0),
    );
    expect("details" in entries[0]!.unsigned).toBe(false);
  });

  it("never lets time go backwards: a head newer than the clock gives its own time", () => {
    const later = "2030-01-01T00:00:00.000Z";
    const { entries, head } = sequenceBatch(
      { size: 3, head: ZEROS, time: later },
      [{ pending: pending(), signer: SIGNER }],
      new Date("2026-01-01T00:00:00.000Z"),
    );
    expect(entries[0]!.unsigned.time).toBe(later);
    expect(head.time).toBe(later);
  });

  it("an empty batch leaves the head as it was", () => {
    const h = { size: 5, head: "ef".repeat(32), time: "2026-12-02T17:00:00.000Z" };
    expect(sequenceBatch(h, [], new Date("2027-01-01T00:00:00.000Z"))).toEqual({ entries: [], head: h });
  });
});

describe("IssuerQueue", () => {
  it("is FIFO and hands out at most `max` per take", () => {
    const q = new IssuerQueue("iss_1", 10);
    const ps = Array.from({ length: 5 }, () => pending());
    for (const p of ps) q.push(p);
    expect(q.length).toBe(5);
    expect(q.take(2)).toEqual([ps[0], ps[1]]);
    expect(q.take(10)).toEqual([ps[2], ps[3], ps[4]]);
    expect(q.take(10)).toEqual([]);
  });

  it("refuses a push beyond its bound with OverloadedError (503, Retry-After) and keeps what it holds", () => {
    const q = new IssuerQueue("iss_1", 2);
    q.push(pending());
    q.push(pending());
    let err: unknown;
    try {
      q.push(pending());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OverloadedError);
    expect(err).toMatchObject({ status: 503, code: "ERR_OVERLOADED", retryAfter: 1 });
    expect(q.length).toBe(2);
  });

  it("re-queues retries at the front in their order, and discarded batches behind them", () => {
    const q = new IssuerQueue("iss_1", 100);
    const [a, b, c, d, e, f] = Array.from({ length: 6 }, () => pending());
    q.push(e!); // arrived while the batches were in flight
    q.requeueFront([a!, b!]); // the failed batch's retries
    q.requeueAt(2, [c!, d!]); // later in-flight batches, discarded
    q.push(f!);
    expect(q.take(10)).toEqual([a, b, c, d, e, f]);
  });

  it("nextPush resolves at the next push, one promise for every waiter", async () => {
    const q = new IssuerQueue("iss_1", 10);
    const w1 = q.nextPush();
    const w2 = q.nextPush();
    expect(w1).toBe(w2);
    let fired = false;
    void w1.then(() => (fired = true));
    await Promise.resolve();
    expect(fired).toBe(false);
    q.push(pending());
    await w1;
    expect(fired).toBe(true);
    expect(q.nextPush()).not.toBe(w1); // a new wait after it fired
  });
});
