/**
 * The portal on receipts the real server produced, with trusted time: local KMS, the dev TSA and two
 * kakunin-witness processes, the server timestamping and witnessing its checkpoints and issuing
 * 1-day agent certificates. One agent's certificate is then revoked for keyCompromise; the other's
 * is judged two days later through the portal's "judge as at" clock (`?at=`). Chromium verifies
 * with the portal built on the same policy and TSA list the real `kakunin-verify` CLI is given, and
 * each case's verdict and DSS report (downloaded from the page) equal the CLI's.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright";
import { exportDirectory } from "../../scripts/export-directory.js";
import { serveSite, type SiteServer } from "../../scripts/serve-site.js";
import { checkpointVerifierKey } from "../../scripts/start-trust-services.js";
import { fileSigner } from "../../scripts/witness/signer.js";
import { formatCosignerVerifierKey, parseNote, parseTlogProof } from "../../verifier/src/formats/index.js";
import { CHROMIUM_PATH, shouldRunBrowser } from "../helpers/browser.js";
import { apiClient, setupIssuer, type TestIssuer } from "../helpers/client.js";
import { startLocalKms, type LocalKms } from "../helpers/kms.js";
import { startServer, type RunningServer } from "../helpers/server.js";
import { startDevTsa, type DevTsa } from "../helpers/tsa.js";
import { startWitness, type WitnessProcess } from "../helpers/witness.js";
import { cliSandbox, EXIT } from "../unit/verifier/fixtures/cli.js";
import { buildPortal, type Json } from "./stack.js";
import { freePort } from "../helpers/free-port.js";

const RUN = shouldRunBrowser("e2e/portal-poe");
const LOG_NAME = "kakunin.test"; // the server helper's KAKUNIN_PUBLIC_URL without its scheme
type Receipt = Json & { timestamps?: string[]; proof: string };

let kms: LocalKms;
let tsa: DevTsa;
let server: RunningServer;
let issuer: TestIssuer;
const witnesses: WitnessProcess[] = [];
let site: SiteServer;
let browser: Browser;
let context: BrowserContext;
const box = cliSandbox("kakunin-portal-poe-");
let files: { ca: string; crl: string; policy: string; tsa: string };
/** Signed, then the certificate revoked for keyCompromise two seconds later. */
let compromised: Receipt;
/** Of an agent whose 1-day certificate is never revoked; `later` is two days on. */
let expiring: Receipt;
let later: string;

/** The receipt of `seq` once its checkpoint is timestamped and cosigned by both witnesses (bounded). */
async function finishedReceipt(seq: number): Promise<Receipt> {
  const end = Date.now() + 60_000;
  for (;;) {
    const res = await fetch(`${server.url}/v1/log/entries/${seq}/receipt?wait=5`, {
      headers: { authorization: `Bearer ${issuer.token}` },
    });
    expect(res.status).toBe(200);
    const r = (await res.json()) as Receipt;
    const lines = parseNote(parseTlogProof(r.proof).checkpoint).signatures.length;
    if ((r.timestamps?.length ?? 0) >= 1 && lines === 3) return r;
    if (Date.now() > end)
      throw new Error(`receipt ${seq}: ${r.timestamps?.length ?? 0} timestamps, ${lines} note signatures after 60 s`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

beforeAll(async () => {
  if (!RUN) return;
  kms = await startLocalKms();
  tsa = await startDevTsa(kms.endpoint);
  const tsaPem = await (await fetch(`${tsa.url}/v1/public/tsa-ca.pem`)).text();
  const w = await Promise.all(
    ["w1", "w2"].map(async (name) => {
      const keyFile = join(box.dir, `${name}.pem`);
      const vkey = await formatCosignerVerifierKey(`${name}.example/witness`, fileSigner(keyFile).publicKey);
      return { name, keyFile, vkey, port: await freePort() };
    }),
  );
  server = await startServer({
    kmsEndpoint: kms.endpoint,
    env: {
      KAKUNIN_WITNESSES: w.map((x) => `${x.name} ${x.vkey} http://127.0.0.1:${x.port}`).join(", "),
      KAKUNIN_WITNESS_TIMEOUT_MS: "5000",
      KAKUNIN_TSA_URLS: `${tsa.url}/`,
      KAKUNIN_TSA_TRUST_FILE: box.file(tsaPem, "server-tsa-trust.pem"),
      KAKUNIN_TSA_TIMEOUT_MS: "10000",
      KAKUNIN_CHECKPOINT_INTERVAL_MS: "200",
      // 1-day certificates, never renewed: judged two days later, the second agent's has expired.
      KAKUNIN_AGENT_VALIDITY_DAYS: "1",
      KAKUNIN_RENEW_BEFORE_DAYS: "0",
    },
  });
  // The server made its checkpoint key on first start; the witnesses follow every issuer log under it.
  const logVkey = await checkpointVerifierKey(kms.endpoint, LOG_NAME);
  for (const x of w)
    witnesses.push(
      await startWitness([
        ...["--port", String(x.port), "--name", `${x.name}.example/witness`, "--key-file", x.keyFile],
        ...["--data-dir", join(server.dataDir, `witness-${x.name}`), "--log-prefix", `${LOG_NAME}/`, logVkey],
      ]),
    );
  issuer = await setupIssuer(server.url, server.operatorToken, 2, "Trusted Time Bank");
  const [a, b] = issuer.agents as [TestIssuer["agents"][0], TestIssuer["agents"][0]];
  const s1 = await apiClient(server.url, a.token).sign(a.id, { payload: { transfer: "100.00" } });
  const s2 = await apiClient(server.url, b.token).sign(b.id, { payload: { transfer: "5.00" } });
  [compromised, expiring] = await Promise.all([finishedReceipt(s1.entry.seq), finishedReceipt(s2.entry.seq)]);
  later = new Date(Date.now() + 2 * 86_400_000).toISOString();
  // The CRL's revocationDate has whole seconds: a compromise reported later than the timestamp.
  await new Promise((ok) => setTimeout(ok, 2100));
  await issuer.client.revokeAgent(a.id, "keyCompromise");

  const directoryFile = join(box.dir, "directory.json");
  await exportDirectory({ api: server.url, out: directoryFile });
  // The verifier pins the issuer log's own key (named by its origin), as served by the API.
  const issuerLogKeys = (await (await fetch(`${server.url}/v1/public/log-keys`)).text())
    .split("\n")
    .filter((l) => l.startsWith(`${LOG_NAME}/${issuer.id}+`));
  expect(issuerLogKeys).toHaveLength(1);
  const policy = `log ${issuerLogKeys[0]}\n${w.map((x) => `witness ${x.name.toUpperCase()} ${x.vkey}\n`).join("")}group both all W1 W2\nquorum both\n`;
  files = {
    ca: box.file(await (await fetch(`${server.url}/v1/public/ca.pem`)).text(), "ca.pem"),
    crl: box.file(await (await fetch(`${server.url}/v1/public/crl.pem`)).text(), "crl.pem"),
    policy: box.file(policy, "policy.txt"),
    tsa: box.file(tsaPem, "tsa.pem"),
  };
  const outDir = join(box.dir, "dist");
  await buildPortal({
    directoryFile,
    outDir,
    env: { KAKUNIN_PORTAL_POLICY_FILE: files.policy, KAKUNIN_PORTAL_TSA_FILE: files.tsa },
  });
  site = await serveSite({ dir: outDir, port: 0, host: "127.0.0.1" });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--headless", "--no-sandbox"] });
  context = await browser.newContext({ acceptDownloads: true });
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await site?.close().catch(() => {});
  await Promise.all([...witnesses.map((x) => x.stop()), tsa?.stop(), server?.stop()]);
  await kms?.stop();
  if (server) await rm(server.dataDir, { recursive: true, force: true });
  await rm(box.dir, { recursive: true, force: true });
});

interface PortalRun {
  page: Page;
  verdict: string;
  /** The report as the page's download gives it. */
  report: Json;
  problems: string[];
}

/** Verifies `receipt` on the portal's receipt page; `at` goes into the URL (`?at=`) unless `field` says to type it. */
async function inPortal(receipt: Json, at?: { value: string; via: "url" | "field" }): Promise<PortalRun> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  const query = at?.via === "url" ? `?at=${encodeURIComponent(at.value)}` : "";
  await page.goto(`${site.url}/verify/receipt/${query}`, { waitUntil: "networkidle" });
  if (at?.via === "field") await page.fill("#judge-at", at.value);
  await page.fill("#receipt", JSON.stringify(receipt));
  await page.click("#verify");
  const v = page.locator("#verdict");
  await v.waitFor({ state: "visible", timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-report")]);
  const report = JSON.parse(await readFile((await download.path())!, "utf8")) as Json;
  return { page, verdict: (await v.getAttribute("data-verdict")) ?? "", report, problems };
}

/** The real CLI on the same receipt with the files the portal was built from. */
function cli(receipt: Json, name: string, ...extra: string[]): { status: number | null; report: Json } {
  const r = box.cli(
    "receipt",
    box.file(JSON.stringify(receipt), name),
    ...["--ca", files.ca, "--crl", files.crl, "--policy", files.policy, "--tsa", files.tsa, "--json"],
    ...extra,
  );
  return { status: r.status, report: JSON.parse(r.stdout) as Json };
}

/**
 * The simple and detailed reports, with the one thing that may differ named alike: where the CRL
 * came from (the CLI's `--crl` path, the portal's directory).
 */
const dss = (r: Json): Json =>
  JSON.parse(
    JSON.stringify({ simple: r.simple, detailed: r.detailed }).replace(
      /from (--crl [^)\s]+|the portal's directory \(as of [^)]*\))/g,
      "from <the CRL>",
    ),
  );

const bare = (r: Receipt): Json => {
  const { timestamps: _dropped, ...rest } = r;
  return rest;
};

describe.skipIf(!RUN)("portal: server-produced timestamped receipts (keyCompromise, expiry)", () => {
  it("revoked for keyCompromise after the timestamp: Valid, naming the TSA, its time and both witnesses — as the CLI", async () => {
    const run = await inPortal(compromised);
    const { page } = run;
    expect(run.verdict).toBe("PASSED");
    expect(await page.getAttribute("#log-inclusion", "data-status")).toBe("passed");
    expect(await page.$$eval("#witnesses li", (li) => li.map((l) => [l.dataset.witness, l.dataset.status]))).toEqual([
      ["W1", "cosigned"],
      ["W2", "cosigned"],
    ]);
    const decided = run.report.subject.poe.decidedBy as Json;
    expect(run.report.subject.poe.control).toMatchObject({ kind: "revocation" });
    expect(await page.getAttribute("#poe", "data-indication")).toBe("PASSED");
    const poeText = (await page.textContent("#poe")) ?? "";
    expect(poeText).toContain(`timestamp by ${decided.tsa.name} at ${decided.time.slice(0, 19).replace("T", " ")}`);
    expect(poeText).toMatch(/before the revocation/);
    expect(await page.textContent("#details")).toMatch(/revoked .*\(keyCompromise\)/);
    // Judged now, and the page says so.
    expect(await page.getAttribute("#judged-at", "data-chosen")).toBe("false");
    expect(run.report.simple.validationTime).toBe(await page.getAttribute("#judged-at", "data-time"));
    expect(run.problems).toEqual([]);
    await page.close();

    // The CLI at the clock the page used: the same verdict and the same DSS reports.
    const c = cli(compromised, "compromised.json", "--now", run.report.simple.validationTime);
    expect(c.status).toBe(EXIT.PASSED);
    expect(dss(run.report)).toEqual(dss(c.report));
  });

  it("the same receipt without its timestamps: Cannot be determined (REVOKED_NO_POE); a token byte flipped: Invalid — as the CLI", async () => {
    const flipped = Buffer.from(compromised.timestamps![0]!, "base64");
    flipped[flipped.length - 10]! ^= 0x01; // inside the SignerInfo's signature value
    const cases: [string, Json, string, string, string][] = [
      ["no-timestamps", bare(compromised), "INDETERMINATE", "REVOKED_NO_POE", "ERR_NO_POE"],
      [
        "tampered-token",
        { ...compromised, timestamps: [flipped.toString("base64")] },
        "FAILED",
        "SIG_CRYPTO_FAILURE", // the simple report: the token's signature value does not verify
        "ERR_TIMESTAMP",
      ],
    ];
    for (const [name, receipt, verdict, reason, code] of cases) {
      const run = await inPortal(receipt);
      expect([name, run.verdict, run.report.simple?.reason]).toEqual([name, verdict, reason]);
      expect(await run.page.textContent("#reasons")).toContain(code);
      await run.page.close();
      const c = cli(receipt, `${name}.json`, "--now", run.report.simple.validationTime);
      expect([name, c.status]).toEqual([name, EXIT[verdict]]);
      expect(dss(run.report)).toEqual(dss(c.report));
    }
  });

  it("judged as at two days later (?at=), the expired certificate: Cannot be determined (EXPIRED_NO_POE) without timestamps, and the page says the verdict now differs", async () => {
    const run = await inPortal(bare(expiring), { value: later, via: "url" });
    const { page } = run;
    expect(run.verdict).toBe("INDETERMINATE");
    expect(run.report.simple).toMatchObject({
      verdict: "INDETERMINATE",
      reason: "EXPIRED_NO_POE",
      validationTime: later,
    });
    expect(await page.inputValue("#judge-at")).toBe(later);
    expect(await page.textContent("#judge-at-status")).toMatch(/set by the link you opened/);
    expect(await page.getAttribute("#judged-at", "data-chosen")).toBe("true");
    expect(await page.getAttribute("#judged-at", "data-time")).toBe(later);
    expect(await page.textContent("#judged-at")).toMatch(/a time chosen on this page, not the current time/);
    // Today the certificate is valid: the page does not let the chosen time pass unnoticed.
    expect(await page.getAttribute("#judged-now", "data-verdict")).toBe("PASSED");
    expect(await page.textContent("#reasons")).toContain("ERR_EXPIRED_NO_POE");
    expect(run.problems).toEqual([]);
    await page.close();

    const c = cli(bare(expiring), "expired-bare.json", "--now", later);
    expect(c.status).toBe(EXIT.INDETERMINATE);
    // Same inputs, same clock: the downloaded DSS reports are the CLI's --json ones.
    expect(dss(run.report)).toEqual(dss(c.report));
  });

  it("judged as at two days later (typed into the field), with the server's timestamped checkpoint: Valid, the expiry the control time — as the CLI", async () => {
    const run = await inPortal(expiring, { value: later, via: "field" });
    const { page } = run;
    expect(run.verdict).toBe("PASSED");
    expect(run.report.subject.poe.control).toMatchObject({ kind: "expiry" });
    expect(await page.textContent("#poe")).toMatch(/Kakunin Dev TSA.*before the expiry/);
    expect(await page.getAttribute("#judged-at", "data-time")).toBe(later);
    expect(await page.textContent("#judge-at-status")).toBe("");
    expect(await page.locator("#judged-now").count()).toBe(0); // valid now as well
    await page.close();

    const c = cli(expiring, "expired.json", "--now", later);
    expect(c.status).toBe(EXIT.PASSED);
    expect(dss(run.report)).toEqual(dss(c.report));
  });

  it("a link setting a time before the revocation does not undo it: still Cannot be determined (REVOKED_NO_POE), as the CLI", async () => {
    const at = (compromised.entry as Json).time as string; // the signing time, before the keyCompromise
    const run = await inPortal(bare(compromised), { value: at, via: "url" });
    expect([run.verdict, run.report.simple?.reason]).toEqual(["INDETERMINATE", "REVOKED_NO_POE"]);
    expect(await run.page.getAttribute("#judged-at", "data-time")).toBe(new Date(at).toISOString());
    expect(await run.page.locator("#judged-now").count()).toBe(0); // the same verdict as now
    await run.page.close();
    const c = cli(bare(compromised), "before-revocation.json", "--now", at);
    expect(c.status).toBe(EXIT.INDETERMINATE);
    expect(dss(run.report)).toEqual(dss(c.report));
  });

  it("a judge-as-at time that is not RFC 3339 with a zone: the field says so and nothing is verified", async () => {
    const page = await context.newPage();
    await page.goto(`${site.url}/verify/receipt/?at=${encodeURIComponent("2026-12-05 10:00")}`, {
      waitUntil: "networkidle",
    });
    await page.fill("#receipt", JSON.stringify(expiring));
    await page.click("#verify");
    await expect.poll(() => page.textContent("#judge-at-error")).toMatch(/not an RFC 3339 date and time/);
    expect(await page.getAttribute("#judge-at", "aria-invalid")).toBe("true");
    expect(await page.locator("#verdict").count()).toBe(0);
    // Without a time zone, a browser would read local time, which the CLI's host need not share.
    await page.fill("#judge-at", "2026-12-05T10:00:00");
    await page.click("#verify");
    await expect.poll(() => page.textContent("#judge-at-error")).toMatch(/time zone/);
    expect(await page.locator("#verdict").count()).toBe(0);
    await page.close();
  });
});
