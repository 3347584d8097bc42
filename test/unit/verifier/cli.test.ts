import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { pssSign } from "./fixtures/chain.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";
import * as t from "./tamper.js";

const BIN = resolve(__dirname, "../../../verifier/bin/kakunin-verify.js");
let s: Scenario;
let dir: string;
const file = (name: string, content: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });

beforeAll(async () => {
  s = await scenario();
  dir = mkdtempSync(join(tmpdir(), "kakunin-cli-"));
}, 120_000);

describe("kakunin-verify", () => {
  it("log: 0 on an untouched export (worker threads), --json gives the report", () => {
    const exp = file("ok.ndjson", s.lines.join("\n") + "\n");
    const r = cli("log", exp, "--ca-fingerprint", s.ca.fingerprint, "--workers", "2");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("PASSED");
    const j = cli("log", exp, "--ca", file("ca.pem", s.ca.pem), "--json");
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ verdict: "PASSED", counts: { entries: 10, passed: 10 } });
  });
  it("log: 1 on a tampered export, naming seq and reason", () => {
    const exp = file("bad.ndjson", t.flipEntryField(s.lines, 6, "sig").join("\n"));
    const r = cli("log", exp, "--ca-fingerprint", s.ca.fingerprint, "--json");
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).findings).toContainEqual(expect.objectContaining({ seq: 6, code: "ERR_SIG_INVALID" }));
    const h = cli("log", exp, "--ca-fingerprint", s.ca.fingerprint);
    expect(h.stdout).toMatch(/FAILED SIG_CRYPTO_FAILURE \(seq 6, line \d+\)/);
  });
  it("receipt: 3 when the signer is revoked (NO_POE), 0 when valid, 1 on payload mismatch", async () => {
    const revoked = file("r3.json", JSON.stringify(await s.chain.receipt(3, { crl: s.crl }, s.signerOf)));
    expect(cli("receipt", revoked, "--ca-fingerprint", s.ca.fingerprint).status).toBe(3);
    const ok = file("r5.json", JSON.stringify(await s.chain.receipt(5, { crl: s.crl }, s.signerOf)));
    const payload = file("p5.json", JSON.stringify((s.chain.payloads.get(5) as { json: unknown }).json));
    expect(cli("receipt", ok, "--ca-fingerprint", s.ca.fingerprint, "--payload-json", payload).status).toBe(0);
    const other = file("p-other.json", '{"op":"other"}');
    expect(cli("receipt", ok, "--ca-fingerprint", s.ca.fingerprint, "--payload-json", other).status).toBe(1);
  });
  it("signature: 0 with a base64 file, 1 with another message", async () => {
    const msg = file("msg.bin", "signed bytes");
    const sig = file("sig.b64", await pssSign(s.a2, new TextEncoder().encode("signed bytes")));
    const args = [
      "signature",
      "--cert",
      file("a2.pem", s.a2.pem),
      "--sig",
      sig,
      "--ca",
      file("ca2.pem", s.ca.pem),
      "--crl",
      file("crl.pem", s.crl),
    ];
    expect(cli(...args, "--message", msg).status).toBe(0);
    expect(cli(...args, "--message", file("msg2.bin", "other bytes")).status).toBe(1);
  });
  it("2 on usage errors and unreadable input; 1 on a malformed line inside a readable export (naming file, line, field)", () => {
    expect(cli("log").status).toBe(2);
    expect(cli("log", join(dir, "missing.ndjson"), "--ca-fingerprint", s.ca.fingerprint).stderr).toContain(
      "missing.ndjson",
    );
    expect(cli("log", join(dir, "missing.ndjson"), "--ca-fingerprint", s.ca.fingerprint).status).toBe(2);
    expect(cli("log", file("x.ndjson", s.lines.join("\n"))).status).toBe(2); // no trust anchor
    const bad = file(
      "malformed.ndjson",
      t
        .editEntry(s.lines, 2, (e) => {
          e.seq = "two";
        })
        .join("\n"),
    );
    const r = cli("log", bad, "--ca-fingerprint", s.ca.fingerprint);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`malformed.ndjson:${t.entryIndex(s.lines, 2) + 1} field entry.seq`);
    // Not NDJSON from the first line, or no header: nothing can be judged.
    expect(
      cli("log", file("garbage.ndjson", "not json\n" + s.lines.join("\n")), "--ca-fingerprint", s.ca.fingerprint)
        .status,
    ).toBe(2);
    expect(
      cli("log", file("noheader.ndjson", s.lines.slice(1).join("\n")), "--ca-fingerprint", s.ca.fingerprint).status,
    ).toBe(2);
    expect(cli("log", file("empty.ndjson", ""), "--ca-fingerprint", s.ca.fingerprint).status).toBe(2);
    expect(cli("receipt", file("notjson.json", "{{"), "--ca-fingerprint", s.ca.fingerprint).status).toBe(2);
    const help = cli("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Examples:");
  });
  it("1 when an entry was deleted but its payload line left behind (orphan payload → ERR_MALFORMED inside a readable export)", async () => {
    const lines = await s.chain.exportLines(s.certs, s.crl, { payloads: true });
    const i = lines.findIndex((l) => l.includes('"kind":"entry"') && l.includes('"seq":5,'));
    expect(lines[i + 1]).toContain('"kind":"payload","seq":5');
    const r = cli(
      "log",
      file("orphan.ndjson", lines.filter((_, j) => j !== i).join("\n")),
      "--ca-fingerprint",
      s.ca.fingerprint,
      "--json",
    );
    expect(r.status).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.verdict).toBe("FAILED");
    expect(j.errors.map((e: { code: string }) => e.code)).toEqual(
      expect.arrayContaining(["ERR_MALFORMED", "ERR_CHAIN_BROKEN"]),
    );
  });
});
