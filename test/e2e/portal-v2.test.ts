/**
 * The portal on kakunin-receipt/2, end to end: a real server's receipt and export, a checkpoint over
 * its entries signed with a real Ed25519 log key and cosigned by two kakunin-witness processes,
 * timestamped by the dev TSA, then the agent revoked for keyCompromise. The portal is built with
 * the directory, a tlog-policy and the TSA list; Chromium verifies, and the CLI, given the same
 * files, gives the same verdict on every receipt.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright";
import { exportDirectory } from "../../scripts/export-directory.js";
import { serveSite, type SiteServer } from "../../scripts/serve-site.js";
import { parseTsaBundle } from "../../verifier/src/timestamp/index.js";
import { CHROMIUM_PATH, shouldRunBrowser } from "../helpers/browser.js";
import { startLocalKms, type LocalKms } from "../helpers/kms.js";
import { startServer, type RunningServer } from "../helpers/server.js";
import { startDevTsa, type DevTsa } from "../helpers/tsa.js";
import { logKey } from "../helpers/witness-keys.js";
import type { WitnessProcess } from "../helpers/witness.js";
import { cosign, EntryTree, receiptV2, stamp, witnessFor } from "../integration/verifier/v2-fixture.js";
import { cliSandbox, EXIT } from "../unit/verifier/fixtures/cli.js";
import { Api, buildPortal, type Json } from "./stack.js";

const RUN = shouldRunBrowser("e2e/portal-v2");
let kms: LocalKms;
let srv: RunningServer;
let tsa: DevTsa;
let ws: WitnessProcess[] = [];
let site: SiteServer;
let browser: Browser;
let tmp: string;
let files: { ca: string; crl: string; policy: string; tsa: string };
/** name → [receipt, expected verdict]. */
const receipts: Record<string, [Json, string]> = {};
const box = cliSandbox("kakunin-portal-v2-");

beforeAll(async () => {
  if (!RUN) return;
  tmp = await mkdtemp(join(tmpdir(), "kakunin-portal-v2-"));
  kms = await startLocalKms();
  [srv, tsa] = await Promise.all([startServer({ kmsEndpoint: kms.endpoint }), startDevTsa(kms.endpoint)]);
  const api = new Api(srv.url);
  const iss = await api.ok("POST", "/v1/issuers", srv.operatorToken, { name: "Portal v2 Co" });
  const agent = await api.ok("POST", "/v1/agents", iss.token, { name: "v2-portal-bot" });
  const v1 = await api.ok("POST", `/v1/agents/${agent.id}/operations`, iss.token, { payload: { n: 1 } });
  const exp = await api.call("GET", "/v1/log/export", iss.token);
  const entries = exp.text
    .split("\n")
    .filter((l) => l)
    .map((l) => JSON.parse(l))
    .filter((l: Json) => l.kind === "entry")
    .map((l: Json) => l.entry);
  const tree = await EntryTree.of(entries);
  const origin = `kakunin.test/${v1.entry.issuer}`;
  const key = await logKey(origin);
  const text = await tree.text(origin);
  ws = await Promise.all([witnessFor("pw1", [key.vkey]), witnessFor("pw2", [key.vkey])]);
  const bare = await key.signNote(text);
  const w1Lines = await cosign(ws[0]!, bare);
  const note = bare + w1Lines + (await cosign(ws[1]!, bare));
  const tsaPem = await (await fetch(`${tsa.url}/v1/public/tsa-ca.pem`)).text();
  const token = await stamp(tsa.url + "/", parseTsaBundle(tsaPem).trusted, text);
  await new Promise((r) => setTimeout(r, 2100));
  await api.ok("POST", `/v1/agents/${agent.id}/revoke`, iss.token, { reason: "keyCompromise" });

  const seq = v1.entry.seq as number;
  const proof = await tree.proof(seq);
  const flipped = new Uint8Array(token);
  flipped[flipped.length - 1]! ^= 1;
  receipts.timestamped = [receiptV2(v1, seq, proof, note, [token]), "PASSED"];
  receipts.noTimestamps = [receiptV2(v1, seq, proof, note), "INDETERMINATE"];
  receipts.oneWitness = [receiptV2(v1, seq, proof, bare + w1Lines, [token]), "INDETERMINATE"];
  receipts.wrongIndex = [receiptV2(v1, seq - 1, await tree.proof(seq - 1), note, [token]), "FAILED"];
  receipts.tamperedToken = [receiptV2(v1, seq, proof, note, [flipped]), "FAILED"];

  const directoryFile = join(tmp, "directory.json");
  await exportDirectory({ api: srv.url, out: directoryFile });
  const policyText = `log ${key.vkey}\nwitness W1 ${ws[0]!.vkey}\nwitness W2 ${ws[1]!.vkey}\ngroup both all W1 W2\nquorum both\n`;
  files = {
    ca: box.file(await (await fetch(`${srv.url}/v1/public/ca.pem`)).text(), "ca.pem"),
    crl: box.file(await (await fetch(`${srv.url}/v1/public/crl.pem`)).text(), "crl.pem"),
    policy: box.file(policyText, "policy.txt"),
    tsa: box.file(tsaPem, "tsa.pem"),
  };
  await writeFile(join(tmp, "policy.txt"), policyText);
  await writeFile(join(tmp, "tsa.pem"), tsaPem);
  const outDir = join(tmp, "dist");
  await buildPortal({
    directoryFile,
    outDir,
    env: { KAKUNIN_PORTAL_POLICY_FILE: join(tmp, "policy.txt"), KAKUNIN_PORTAL_TSA_FILE: join(tmp, "tsa.pem") },
  });
  site = await serveSite({ dir: outDir, port: 0, host: "127.0.0.1" });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--headless", "--no-sandbox"] });
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await site?.close().catch(() => {});
  await Promise.all([...ws.map((w) => w.stop()), tsa?.stop(), srv?.stop()]);
  await kms?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function inPage(receipt: Json): Promise<{ page: Page; verdict: string; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${site.url}/verify/receipt/`, { waitUntil: "networkidle" });
  await page.fill("#receipt", JSON.stringify(receipt));
  await page.click("#verify");
  const v = page.locator("#verdict");
  await v.waitFor({ state: "visible", timeout: 30_000 });
  return { page, verdict: (await v.getAttribute("data-verdict")) ?? "", problems };
}

describe.skipIf(!RUN)("portal: kakunin-receipt/2", () => {
  it("timestamped receipt of a since-revoked agent: Valid, with checkpoint, inclusion, both witnesses and the POE", async () => {
    const { page, verdict, problems } = await inPage(receipts.timestamped![0]);
    expect(verdict).toBe("PASSED");
    expect(await page.getAttribute("#log-inclusion", "data-status")).toBe("passed");
    expect(await page.textContent("#log-signature")).toMatch(/the pinned log key kakunin\.test\//);
    expect(await page.$$eval("#witnesses li", (li) => li.map((l) => l.getAttribute("data-status")))).toEqual([
      "cosigned",
      "cosigned",
    ]);
    expect(await page.getAttribute("#poe", "data-indication")).toBe("PASSED");
    expect(await page.textContent("#poe")).toMatch(/Kakunin Dev TSA.*before the revocation/);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("CLI and portal give the same verdict on every receipt, with the same trust files", async () => {
    for (const [name, [receipt, expected]] of Object.entries(receipts)) {
      const { page, verdict } = await inPage(receipt);
      await page.close();
      const cli = box.cli(
        "receipt",
        box.file(JSON.stringify(receipt), `${name}.json`),
        "--ca",
        files.ca,
        "--crl",
        files.crl,
        "--policy",
        files.policy,
        "--tsa",
        files.tsa,
      );
      expect([name, verdict]).toEqual([name, expected]);
      expect([name, cli.status]).toEqual([name, EXIT[expected]]);
    }
  });
});
