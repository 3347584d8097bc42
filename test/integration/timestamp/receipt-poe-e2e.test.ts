/**
 * End to end, real processes only: local KMS, two dev TSAs (each with its own CA), the server
 * timestamping its checkpoints with both. An agent signs, the v2 receipt gets its `timestamps`,
 * then the agent's certificate is revoked for keyCompromise. The real `kakunin-verify` CLI, pinning
 * the CA by fingerprint, the issuer log's key and only the first TSA's CA, judges the receipt:
 * PASSED with the proof of existence named; no timestamps → INDETERMINATE (REVOKED_NO_POE); only
 * the unpinned TSA's token → INDETERMINATE; a token byte flipped → FAILED. With 1-day certificates,
 * `--now` a day later shows the expired case: PASSED with the timestamps, EXPIRED_NO_POE without.
 */
import { spawnSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, setupIssuer, type TestIssuer } from "../../helpers/client.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { startDevTsa, type DevTsa } from "../../helpers/tsa.js";
import { parseJudgeTime } from "../../../site/src/lib/client/judge-time.js";

const BIN = resolve(__dirname, "../../../verifier/bin/kakunin-verify.js");
type Receipt = Record<string, unknown> & { timestamps?: string[] };

let kms: LocalKms;
let pinnedTsa: DevTsa;
let otherTsa: DevTsa;
let server: RunningServer;
let issuer: TestIssuer;
let dir: string;
let caFp: string;
let logKeys: string[];
let receipt: Receipt;
/** A receipt of the second agent (never revoked), and a time after its 1-day certificate expired. */
let expiring: { receipt: Receipt; after: string };

const file = async (name: string, text: string) => {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
};
const pem = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
};

/** Runs the real CLI on a receipt with the pins every case shares. */
async function verify(r: Receipt, name: string, ...extra: string[]) {
  const p = await file(name, JSON.stringify(r));
  const args = [
    "receipt",
    p,
    "--ca-fingerprint",
    caFp,
    "--crl",
    join(dir, "crl.pem"),
    "--tsa",
    join(dir, "tsa1-ca.pem"),
  ];
  for (const k of logKeys) args.push("--log-key", k);
  const human = spawnSync(process.execPath, [BIN, ...args, ...extra], { encoding: "utf8", timeout: 120_000 });
  const json = spawnSync(process.execPath, [BIN, ...args, ...extra, "--json"], { encoding: "utf8", timeout: 120_000 });
  expect(json.status).toBe(human.status);
  return { status: human.status, text: human.stdout + human.stderr, report: JSON.parse(json.stdout) as any };
}

/** The receipt of `seq` once it carries a token from each TSA (bounded). */
async function timestampedReceipt(seq: number): Promise<Receipt> {
  const end = Date.now() + 45_000;
  for (;;) {
    const res = await fetch(`${server.url}/v1/log/entries/${seq}/receipt?wait=5`, {
      headers: { authorization: `Bearer ${issuer.token}` },
    });
    expect(res.status).toBe(200);
    const r = (await res.json()) as Receipt;
    if ((r.timestamps?.length ?? 0) >= 2) return r;
    if (Date.now() > end) throw new Error(`receipt ${seq} has ${r.timestamps?.length ?? 0} timestamps after 45 s`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

/** Whether a base64 DER token was signed by the TSA whose certificates carry `cn` (certReq: the TSA certificate is inside). */
const signedBy = (token: string, cn: string) => Buffer.from(token, "base64").includes(Buffer.from(cn, "utf8"));

beforeAll(async () => {
  kms = await startLocalKms();
  pinnedTsa = await startDevTsa(kms.endpoint, ["--name", "Pinned"]);
  otherTsa = await startDevTsa(kms.endpoint, ["--name", "Elsewhere", "--alias", "alias/elsewhere-tsa"]);
  dir = await mkdtemp(join(tmpdir(), "receipt-poe-e2e-"));
  const ca1 = await pem(`${pinnedTsa.url}/v1/public/tsa-ca.pem`);
  const ca2 = await pem(`${otherTsa.url}/v1/public/tsa-ca.pem`);
  expect(ca1).not.toBe(ca2);
  await file("tsa1-ca.pem", ca1);
  // The server trusts both TSAs; the verifier below pins only the first.
  await file("server-tsa-trust.pem", ca1 + ca2);
  server = await startServer({
    kmsEndpoint: kms.endpoint,
    dataDir: dir,
    env: {
      KAKUNIN_TSA_URLS: `${pinnedTsa.url}/,${otherTsa.url}/`,
      KAKUNIN_TSA_TRUST_FILE: join(dir, "server-tsa-trust.pem"),
      KAKUNIN_TSA_TIMEOUT_MS: "3000",
      KAKUNIN_CHECKPOINT_INTERVAL_MS: "200",
      // Certificates expire after one day (no renewal), so `--now` a day later shows the expired case.
      KAKUNIN_AGENT_VALIDITY_DAYS: "1",
      KAKUNIN_RENEW_BEFORE_DAYS: "0",
    },
  });
  issuer = await setupIssuer(server.url, server.operatorToken, 2, "Compromised Bank");
  const agent = issuer.agents[0]!;
  const signed = await apiClient(server.url, agent.token).sign(agent.id, { payload: { transfer: "100.00" } });
  receipt = await timestampedReceipt(signed.entry.seq);
  const second = issuer.agents[1]!;
  const later = await apiClient(server.url, second.token).sign(second.id, { payload: { transfer: "5.00" } });
  const notAfter = new Date(new X509Certificate(second.pem).validTo).getTime();
  expiring = {
    receipt: await timestampedReceipt(later.entry.seq),
    after: new Date(notAfter + 3_600_000).toISOString(),
  };

  // The CRL's revocationDate has whole seconds: a genTime in the same second as the revocation
  // counts as after it (ERR_POE_AFTER_REVOCATION). A compromise reported later is the case shown here.
  await new Promise((ok) => setTimeout(ok, 2100));
  await issuer.client.revokeAgent(agent.id, "keyCompromise");
  await file("crl.pem", await pem(`${server.url}/v1/public/crl.pem`));
  const caPem = await pem(`${server.url}/v1/public/ca.pem`);
  caFp = `sha256:${createHash("sha256").update(new X509Certificate(caPem).raw).digest("hex")}`;
  logKeys = (await pem(`${server.url}/v1/public/log-keys`))
    .split("\n")
    .filter((l) => l.startsWith(`kakunin.test/${issuer.id}+`));
  expect(logKeys.length).toBeGreaterThan(0);
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await pinnedTsa?.stop();
  await otherTsa?.stop();
  await kms?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a receipt signed before a keyCompromise revocation, judged by the CLI", () => {
  it("with the pinned TSA's token: PASSED, the proof of existence named", async () => {
    expect(receipt.timestamps!.filter((t) => signedBy(t, "Pinned"))).toHaveLength(1);
    const r = await verify(receipt, "receipt.json");
    expect(r.status, r.text).toBe(0);
    expect(r.report.verdict).toBe("PASSED");
    expect(r.report.simple).toMatchObject({ verdict: "PASSED", bestPoe: { decisive: true } });
    expect(r.text).toMatch(/proof of existence/i);
    expect(r.text).toMatch(/keyCompromise/);
  });

  it("without timestamps: INDETERMINATE, REVOKED_NO_POE", async () => {
    const { timestamps: _dropped, ...bare } = receipt;
    const r = await verify(bare, "no-timestamps.json");
    expect(r.status).toBe(3);
    expect(r.report.verdict).toBe("INDETERMINATE");
    expect(r.report.simple).toMatchObject({ verdict: "INDETERMINATE", reason: "REVOKED_NO_POE" });
  });

  it("with only the token of a TSA the verifier does not pin: INDETERMINATE", async () => {
    const other = receipt.timestamps!.filter((t) => signedBy(t, "Elsewhere"));
    expect(other).toHaveLength(1);
    const r = await verify({ ...receipt, timestamps: other }, "other-tsa.json");
    expect(r.status).toBe(3);
    expect(r.report.verdict).toBe("INDETERMINATE");
    expect(r.report.simple?.reason).toBe("REVOKED_NO_POE");
    expect(r.text).toContain("ERR_TSA_UNTRUSTED");
  });

  it("with a byte of the pinned TSA's token flipped: FAILED", async () => {
    const der = Buffer.from(
      receipt.timestamps!.find((t) => signedBy(t, "Pinned"))!,
      "base64",
    );
    der[der.length - 10]! ^= 0x01; // inside the SignerInfo's signature value
    const r = await verify({ ...receipt, timestamps: [der.toString("base64")] }, "flipped.json");
    expect(r.status).toBe(1);
    expect(r.report.verdict).toBe("FAILED");
    expect(JSON.stringify(r.report)).toContain("ERR_TIMESTAMP");
  });

  it("--now after the certificate expired: PASSED with the timestamps, INDETERMINATE (EXPIRED_NO_POE) without", async () => {
    const r = await verify(expiring.receipt, "expired.json", "--now", expiring.after);
    expect(r.status, r.text).toBe(0);
    expect(r.report.simple).toMatchObject({ verdict: "PASSED", bestPoe: { decisive: true } });
    const { timestamps: _dropped, ...bare } = expiring.receipt;
    const none = await verify(bare, "expired-bare.json", "--now", expiring.after);
    expect(none.status, none.text).toBe(3);
    expect(none.report.simple).toMatchObject({ verdict: "INDETERMINATE", reason: "EXPIRED_NO_POE" });
    // Judged today, the same bare receipt is fine: the certificate is still valid.
    expect((await verify(bare, "today-bare.json")).status).toBe(0);
  });

  it("--now that is not an RFC 3339 date-time with a zone: exit 2, the option named (the portal refuses the same texts)", async () => {
    // Without a zone Node would read local time, and the portal's browser another: both refuse it.
    for (const bad of ["tomorrow", "2026-12-05T10:00:00", "2026-12-05 10:00:00Z", "2026-02-30T10:00:00Z"]) {
      const r = spawnSync(
        process.execPath,
        [BIN, "receipt", join(dir, "receipt.json"), "--ca-fingerprint", caFp, "--now", bad],
        { encoding: "utf8" },
      );
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toContain(`--now ${bad} is not an RFC 3339 date-time with seconds and a time zone`);
      expect(parseJudgeTime(bad)).toHaveProperty("error");
    }
  });
});
