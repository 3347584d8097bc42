/** Witness-quorum evaluation: which signatures verified, groups, forged and unknown lines, and a mutation property. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import {
  evaluateWitnessQuorum,
  formatCheckpoint,
  parsePolicy,
  type TrustPolicy,
} from "../../../verifier/src/formats/index.js";
import { cosignerKey, logKey, type CosignerKey, type LogKey } from "../../helpers/witness-keys.js";

const ORIGIN = "log.example/issuer-a";
const TEXT = formatCheckpoint({ origin: ORIGIN, size: 42, root: new Uint8Array(32).fill(7) as never, extensions: [] });

let log: LogKey;
let ws: CosignerKey[];
let stranger: CosignerKey;
let note: string;

beforeAll(async () => {
  log = await logKey(ORIGIN);
  ws = await Promise.all(["w1.example", "w2.example", "w3.example"].map((n) => cosignerKey(n)));
  stranger = await cosignerKey("stranger.example");
  note = await log.signNote(TEXT);
});

async function policy(quorum: string): Promise<TrustPolicy> {
  return parsePolicy(`log ${log.vkey}\n${ws.map((w, i) => `witness W${i + 1} ${w.vkey}`).join("\n")}\n${quorum}\n`);
}
async function cosigned(...who: CosignerKey[]): Promise<string> {
  let out = note;
  for (const w of who) out += await w.cosign(TEXT, 1_700_000_000);
  return out;
}

describe("witness quorum", () => {
  it("2 of 3: met with two cosignatures, not with one; names what is missing", async () => {
    const p = await policy("group two 2 W1 W2 W3\nquorum two");
    const two = await evaluateWitnessQuorum(await cosigned(ws[0]!, ws[2]!), p);
    expect(two.log.status).toBe("verified");
    expect([two.cosigned, two.missing, two.invalid, two.quorumMet, two.accepted]).toEqual([
      ["W1", "W3"],
      ["W2"],
      [],
      true,
      true,
    ]);
    expect(two.witnesses[0]).toMatchObject({ name: "W1", status: "cosigned", timestamp: 1_700_000_000 });
    expect(two.groups).toEqual([{ name: "two", threshold: 2, witnessed: 2, members: 3, met: true }]);
    const one = await evaluateWitnessQuorum(await cosigned(ws[1]!), p);
    expect([one.cosigned, one.missing, one.quorumMet, one.accepted]).toEqual([["W2"], ["W1", "W3"], false, false]);
    expect(one.summary).toBe('witness quorum "two" not met (cosigned by W2; missing W1, W3; two has 1 of 2)');
    const none = await evaluateWitnessQuorum(note, p);
    expect([none.cosigned, none.quorumMet]).toEqual([[], false]);
  });

  it("nested groups, a single-witness quorum, and quorum none", async () => {
    const nested = await policy("group a any W1 W2\ngroup both all a W3\nquorum both");
    expect((await evaluateWitnessQuorum(await cosigned(ws[1]!, ws[2]!), nested)).quorumMet).toBe(true);
    const r = await evaluateWitnessQuorum(await cosigned(ws[0]!, ws[1]!), nested);
    expect(r.quorumMet).toBe(false);
    expect(r.groups.map((g) => [g.name, g.met])).toEqual([
      ["a", true],
      ["both", false],
    ]);
    expect((await evaluateWitnessQuorum(await cosigned(ws[2]!), await policy("quorum W3"))).quorumMet).toBe(true);
    expect((await evaluateWitnessQuorum(await cosigned(ws[1]!), await policy("quorum W3"))).quorumMet).toBe(false);
    const free = await evaluateWitnessQuorum(note, await policy("quorum none"));
    expect([free.quorumMet, free.accepted]).toEqual([true, true]);
  });

  it("a forged cosignature is not counted and the note is not accepted; unknown keys' lines are ignored", async () => {
    const p = await policy("group two 2 W1 W2 W3\nquorum two");
    // W2's line signed over other text: right name and key ID, wrong signature.
    const otherText = TEXT.replace("\n42\n", "\n43\n");
    const forgedLine = await ws[1]!.cosign(otherText, 1_700_000_000);
    const r = await evaluateWitnessQuorum(note + (await ws[0]!.cosign(TEXT)) + forgedLine, p);
    expect([r.cosigned, r.invalid, r.quorumMet, r.accepted]).toEqual([["W1"], ["W2"], false, false]);
    expect(r.witnesses[1]!.detail).toMatch(/invalid cosignature/);
    // A stranger's valid cosignature, and a line named like W3 with another key, count for nothing.
    const impostor = await cosignerKey(ws[2]!.name);
    const s = await evaluateWitnessQuorum(
      note + (await stranger.cosign(TEXT)) + (await impostor.cosign(TEXT)) + (await ws[0]!.cosign(TEXT)),
      p,
    );
    expect([s.cosigned, s.missing, s.invalid]).toEqual([["W1"], ["W2", "W3"], []]);
    // Two valid lines and a forged third: quorum met, but a pinned witness's line failed, so not accepted.
    const t = await evaluateWitnessQuorum((await cosigned(ws[0]!, ws[1]!)) + (await ws[2]!.cosign(otherText)), p);
    expect([t.quorumMet, t.accepted]).toEqual([true, false]);
    expect(t.summary).toMatch(/met, but a pinned witness's cosignature does not verify/);
  });

  it("checks the log signature: another key, an altered text, a policy without the origin's key", async () => {
    const p = await policy("quorum W1");
    const other = await logKey(ORIGIN);
    const bad = await evaluateWitnessQuorum((await other.signNote(TEXT)) + (await ws[0]!.cosign(TEXT)), p);
    expect([bad.log.status, bad.quorumMet, bad.accepted]).toEqual(["invalid", true, false]);
    const unpinned = await evaluateWitnessQuorum(
      await cosigned(ws[0]!),
      await parsePolicy(`witness W1 ${ws[0]!.vkey}\nquorum W1\n`),
    );
    expect(unpinned.log.status).toBe("not-pinned");
    expect(unpinned.accepted).toBe(false);
    // The log key can come from context instead of the policy.
    const ctx = await evaluateWitnessQuorum(
      await cosigned(ws[0]!),
      await parsePolicy(`witness W1 ${ws[0]!.vkey}\nquorum W1\n`),
      { logKeys: [log.key] },
    );
    expect([ctx.log.status, ctx.accepted]).toEqual(["verified", true]);
    // A pinned key of another origin does not sign for this one.
    const elsewhere = await logKey("log.example/issuer-b", log.pair);
    const cross = await evaluateWitnessQuorum(
      (await elsewhere.signNote(TEXT)) + (await ws[0]!.cosign(TEXT)),
      await parsePolicy(`log ${elsewhere.vkey}\nwitness W1 ${ws[0]!.vkey}\nquorum W1\n`),
    );
    expect(cross.log.status).toBe("not-pinned");
  });

  it("optionally refuses cosignatures dated in the future", async () => {
    const p = await policy("quorum W1");
    const n = note + (await ws[0]!.cosign(TEXT, 2_000_000_000));
    expect((await evaluateWitnessQuorum(n, p)).quorumMet).toBe(true);
    const r = await evaluateWitnessQuorum(n, p, { now: 1_999_999_000 });
    expect([r.quorumMet, r.invalid]).toEqual([false, ["W1"]]);
    expect((await evaluateWitnessQuorum(n, p, { now: 1_999_999_800 })).quorumMet).toBe(true);
  });

  it("property: changing any byte of a cosigned note never increases the counted cosignatures", async () => {
    const p = await policy("group two 2 W1 W2 W3\nquorum two");
    const w1Line = await ws[0]!.cosign(TEXT, 1_700_000_000);
    const w2Line = await ws[1]!.cosign(TEXT, 1_700_000_001);
    const full = new TextEncoder().encode(note + w1Line + w2Line);
    // Byte ranges of W1's line (its key ID, timestamp and signature: the part after "— w1.example ").
    const w1From = new TextEncoder().encode(note).length + new TextEncoder().encode(`\u2014 ${ws[0]!.name} `).length;
    const w1To = w1From + w1Line.length - `\u2014 ${ws[0]!.name} `.length - 1;
    const base = await evaluateWitnessQuorum(full, p);
    expect(base.cosigned).toHaveLength(2);
    const count = async (bytes: Uint8Array) => {
      try {
        const r = await evaluateWitnessQuorum(bytes, p);
        return { cosigned: r.cosigned.length, accepted: r.accepted, w1: r.cosigned.includes("W1") };
      } catch {
        return { cosigned: 0, accepted: false, w1: false }; // malformed: nothing counts
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.nat(full.length - 1), fc.integer({ min: 1, max: 255 }), async (at, delta) => {
        const m = full.slice();
        m[at] = (m[at]! + delta) & 0xff;
        const r = await count(m);
        expect(r.cosigned).toBeLessThanOrEqual(2);
        // The signed text itself changed: no signature can still verify.
        if (at < TEXT.length) expect([r.cosigned, r.accepted]).toEqual([0, false]);
        // W1's own line changed: W1 no longer counts.
        if (at >= w1From && at < w1To) expect(r.w1).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
