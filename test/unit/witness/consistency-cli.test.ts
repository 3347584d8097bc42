/** `kakunin-verify consistency`: exit codes, the evidence on stdout, witness reports with --policy, usage errors. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { base64Encode } from "../../../verifier/src/formats/bytes.js";
import { cosignerKey, type CosignerKey } from "../../helpers/witness-keys.js";
import { MerkleTestLog } from "../../helpers/witness-tree.js";

const BIN = resolve(__dirname, "../../../verifier/bin/kakunin-verify.js");
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, "consistency", ...args], { encoding: "utf8", timeout: 120_000 });
let dir: string;
let log: MerkleTestLog;
let fork: MerkleTestLog;
let w1: CosignerKey;
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kakunin-consistency-"));
  log = await (await MerkleTestLog.create("log.example/cli")).grow(30);
  fork = await log.fork(10).grow(30);
  w1 = await cosignerKey("w1.example/witness");
}, 120_000);

describe("kakunin-verify consistency", () => {
  it("0 for one history (with its proof), 1 with both notes when the log showed two roots at one size", async () => {
    const a = file("a.txt", await log.checkpoint(12));
    const b = file("b.txt", await log.checkpoint(30));
    const proof = file("proof.txt", (await log.proofs(12, 30)).map((h) => `${base64Encode(h)}\n`).join(""));
    const ok = cli(a, b, "--log-key", log.vkey, "--proof", proof);
    expect([ok.status, ok.stderr]).toEqual([0, ""]);
    expect(ok.stdout).toBe("PASSED: log.example/cli: size 30 extends size 12 (consistency proof verified)\n");
    const forkNote = await fork.checkpoint(30);
    const bad = cli(b, file("fork.txt", forkNote), "--log-key", log.vkey);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(
      /^FAILED: log\.example\/cli: the log showed two histories: two different roots at size 30\n/,
    );
    expect(bad.stdout).toContain("it showed two histories. Evidence (both signed notes):");
    expect(bad.stdout).toContain(await log.checkpoint(30));
    expect(bad.stdout).toContain(forkNote);
    const json = JSON.parse(cli(b, file("fork.txt", forkNote), "--log-key", log.vkey, "--json").stdout);
    expect(json).toMatchObject({
      verdict: "FAILED",
      reason: "different-roots",
      conclusive: true,
      sizes: { older: 30, newer: 30 },
    });
  });

  it("1 when consistency is not shown (no proof, or the other history's proof); --policy reports the witnesses", async () => {
    const text12 = await log.text(12);
    const cosigned = (await log.checkpoint(12)) + (await w1.cosign(text12));
    const policy = file("policy.txt", `log ${log.vkey}\nwitness W1 ${w1.vkey}\nquorum W1\n`);
    const r = cli(file("c12.txt", cosigned), file("f25.txt", await fork.checkpoint(25)), "--policy", policy);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("no consistency proof from size 12 to size 25 was given");
    expect(r.stdout).toContain('  checkpoint of size 12: witness quorum "W1" met (cosigned by W1; missing none)\n');
    expect(r.stdout).toContain('  checkpoint of size 25: witness quorum "W1" not met (cosigned by none; missing W1)\n');
    expect(r.stdout).toContain("Consistency was not shown.");
    const wrong = file("fproof.txt", (await fork.proofs(12, 25)).map((h) => `${base64Encode(h)}\n`).join(""));
    const p = cli(
      file("c12.txt", cosigned),
      file("f25.txt", await fork.checkpoint(25)),
      "--policy",
      policy,
      "--proof",
      wrong,
    );
    expect(p.status).toBe(1);
    expect(p.stdout).toMatch(/the consistency proof from size 12 to size 25 does not verify/);
  });

  it("2 for usage errors, naming the file and line: no key, a bad policy, a bad proof line, a note the log did not sign", async () => {
    const a = file("a.txt", await log.checkpoint(5));
    const noKey = cli(a, a);
    expect([noKey.status, noKey.stderr]).toEqual([2, expect.stringContaining("the log's verifier key is required")]);
    const badPolicy = cli(a, a, "--policy", file("bad-policy.txt", `log ${log.vkey}\nquorum nobody\n`));
    expect([badPolicy.status, badPolicy.stderr]).toEqual([
      2,
      expect.stringMatching(/bad-policy\.txt:2: policy line 2 \(quorum\)/),
    ]);
    const badProof = cli(
      a,
      file("b.txt", await log.checkpoint(9)),
      "--log-key",
      log.vkey,
      "--proof",
      file("bad-proof.txt", "\nnot base64!\n"),
    );
    expect([badProof.status, badProof.stderr]).toEqual([2, expect.stringMatching(/bad-proof\.txt:2: not base64/)]);
    const stranger = await MerkleTestLog.create("log.example/cli");
    const unsigned = cli(a, file("s.txt", await (await stranger.grow(5)).checkpoint()), "--log-key", log.vkey);
    expect([unsigned.status, unsigned.stderr]).toEqual([
      2,
      expect.stringMatching(/s\.txt: second checkpoint: note has no verifiable signatures/),
    ]);
    expect(cli(a, join(dir, "missing.txt"), "--log-key", log.vkey).stderr).toMatch(
      /cannot read checkpoint .*missing\.txt: ENOENT/,
    );
  });
});
