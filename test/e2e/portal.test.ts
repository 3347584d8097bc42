/**
 * The regulator portal, end to end: a real local KMS and API server produce receipts, a rotation, a
 * revocation and an export; the portal is built with the resulting directory and served statically;
 * Chromium (Debian's, driven by Playwright) verifies everything in the page.
 *
 * Screenshots of each verdict go to test-results/e2e/.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright";
import { entryCanonicalBytes, verifyExport, verifyReceipt } from "@kakunin/verifier";
import { cliSandbox, EXIT } from "../unit/verifier/fixtures/cli.js";
import { serveSite } from "../../scripts/serve-site.js";
import { buildPortal, ROOT, startPortalStack, type Json, type PortalStack } from "./stack.js";
import { CHROMIUM_PATH, shouldRunBrowser } from "../helpers/browser.js";

const SHOTS = join(ROOT, "test-results", "e2e");
const CHROMIUM = CHROMIUM_PATH;
// Without Debian's Chromium every suite here is skipped by name (test/helpers/browser.ts); CI requires it.
const RUN = shouldRunBrowser("e2e/portal");
const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

let stack: PortalStack;
let browser: Browser;
let context: BrowserContext;

interface Opened {
  page: Page;
  /** console errors/warnings and uncaught exceptions seen on this page */
  problems: string[];
}

async function open(path: string): Promise<Opened> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  const res = await page.goto(stack.site.url + path, { waitUntil: "networkidle" });
  expect(res?.status(), `GET ${path}`).toBe(200);
  // The load-time directory refresh (built with the API URL) has settled.
  await expect.poll(() => page.locator("#freshness").textContent(), { timeout: 10_000 }).not.toContain("checking");
  return { page, problems };
}

/** Runs `fn` and returns every request the page made meanwhile. */
async function requestsDuring(page: Page, fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onRequest = (r: { url(): string }) => seen.push(r.url());
  page.on("request", onRequest);
  try {
    await fn();
  } finally {
    page.off("request", onRequest);
  }
  return seen;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function verifyReceiptInPage(page: Page, receiptText: string, payload?: string): Promise<string> {
  await page.fill("#receipt", receiptText);
  await page.fill("#payload", payload ?? "");
  await page.click("#verify");
  const verdict = page.locator("#verdict");
  await verdict.waitFor({ state: "visible", timeout: 20_000 });
  return (await verdict.getAttribute("data-verdict")) ?? "";
}

const fingerprintHex = (s: string) =>
  s
    .replace(/sha-?256:?/gi, "")
    .replace(/[^0-9a-f]/gi, "")
    .toLowerCase();

beforeAll(async () => {
  if (!RUN) return;
  await mkdir(SHOTS, { recursive: true });
  stack = await startPortalStack({ apiUrlInBuild: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
}, 240_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close().catch(() => {});
  await stack?.close();
});

describe.skipIf(!RUN)("portal pages", () => {
  it("every page loads with no console error, lang=en and the pinned fingerprint", async () => {
    const fp = fingerprintHex(stack.directory.ca.fingerprintSha256 ?? stack.directory.ca.fingerprint);
    for (const path of ["/", "/verify/receipt/", "/verify/signature/", "/verify/log/", "/agents/", "/ca/"]) {
      const { page, problems } = await open(path);
      expect(await page.getAttribute("html", "lang")).toBe("en");
      expect(fingerprintHex((await page.locator("footer .fp").textContent()) ?? "")).toBe(fp);
      expect(await page.locator("#freshness").textContent()).toContain("refreshed from");
      expect(await page.context().cookies()).toEqual([]);
      // Every form control has a label; every image has alt text; there is one h1.
      const unlabelled = await page.$$eval("input:not([type=hidden]), textarea, select", (els) =>
        els
          .filter((e) => !(e as HTMLInputElement).labels?.length && !e.getAttribute("aria-label"))
          .map((e) => e.id || e.outerHTML.slice(0, 60)),
      );
      expect(unlabelled, path).toEqual([]);
      expect(await page.locator("img:not([alt])").count(), path).toBe(0);
      expect(await page.locator("h1").count(), path).toBe(1);
      // A strict CSP: the page's scripts may reach only the API (for the load-time refresh).
      const csp = (await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content")) ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain(`connect-src ${new URL(stack.server.url).origin}`);
      // Keyboard: the skip link is the first stop and takes focus to the content.
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.className)).toBe("skip");
      expect(problems, path).toEqual([]);
      await page.close();
    }
  });

  it("Home shows the CA fingerprint prominently", async () => {
    const { page, problems } = await open("/");
    const shown = fingerprintHex((await page.locator("#ca-fingerprint").textContent()) ?? "");
    expect(shown).toBe(fingerprintHex(stack.directory.ca.fingerprintSha256));
    await shot(page, "home");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("Agents lists every certificate, superseded and revoked ones and disabled keys, with PEM downloads", async () => {
    const { page, problems } = await open("/agents/");
    const { fresh, rotated, revoked } = stack.agents;
    for (const a of [fresh, rotated, revoked]) await expect.poll(() => page.locator(`#${a.id}`).count()).toBe(1);
    const rotatedText = (await page.locator(`#${rotated.id}`).textContent()) ?? "";
    expect(rotatedText).toContain("Superseded");
    expect(rotatedText).toContain("Disabled");
    expect(rotatedText).toContain(rotated.certificate.serial);
    const revokedText = (await page.locator(`#${revoked.id}`).textContent()) ?? "";
    expect(revokedText).toContain("Revoked");
    expect(revokedText).toContain("keyCompromise");
    const link = page.locator(`a[href$="/certs/${rotated.certificate.serial}.pem"]`);
    expect(await link.count()).toBe(1);
    const pem = await (await page.request.get(`${stack.site.url}/certs/${rotated.certificate.serial}.pem`)).text();
    expect(pem.trim()).toBe(rotated.certificate.pem.trim());
    await shot(page, "agents");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("CA shows the certificate, fingerprint and the current CRL with the revoked serial", async () => {
    const { page, problems } = await open("/ca/");
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).toContain(stack.agents.revoked.certificate.serial);
    expect(text).toContain("keyCompromise");
    const caPem = await (await page.request.get(`${stack.site.url}/ca.pem`)).text();
    expect(caPem.trim()).toBe(stack.directory.ca.pem.trim());
    const crlPem = await (await page.request.get(`${stack.site.url}/crl.pem`)).text();
    expect(crlPem).toContain("BEGIN X509 CRL");
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!RUN)("verify a receipt", () => {
  it("a fresh receipt is Valid, and verification makes no network request", async () => {
    const { page, problems } = await open("/verify/receipt/");
    let verdict = "";
    const requests = await requestsDuring(page, async () => {
      verdict = await verifyReceiptInPage(page, JSON.stringify(stack.receipts.fresh, null, 2));
    });
    expect(verdict).toBe("PASSED");
    expect(await page.locator("#verdict .verdict-word").textContent()).toBe("Valid");
    expect(requests).toEqual([]);
    const details = (await page.locator("#details").textContent()) ?? "";
    expect(details).toContain(stack.agents.fresh.id);
    expect(details).toContain("claims-assistant");
    expect(details).toContain("Acme Insurance");
    expect(details).toContain(stack.receipts.fresh.entry.signer.cert);
    expect(await page.locator("#key-state").textContent()).toContain("Enabled");
    expect(await page.locator("#timeline li").count()).toBeGreaterThanOrEqual(2);
    await shot(page, "receipt-valid");
    await page.emulateMedia({ media: "print" });
    await shot(page, "receipt-valid-print");
    await page.emulateMedia({ media: "screen" });

    // The technical report downloads as JSON (a blob: URL, no request).
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-report")]);
    const report = JSON.parse(await (await import("node:fs/promises")).readFile((await download.path())!, "utf8"));
    expect(report.verdict).toBe("PASSED");
    expect(report.kind).toBe("receipt");

    // Keyboard only, with the receipt chosen as a file: Clear, pick the file, Enter on the button.
    await page.click("button[type=reset]");
    expect(await page.locator("#result").isHidden()).toBe(true);
    await page.setInputFiles("#receipt-file", {
      name: "receipt.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(stack.receipts.fresh)),
    });
    await expect.poll(() => page.locator("#receipt-status").textContent()).toContain("receipt.json");
    await page.focus("#verify");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#verdict").getAttribute("data-verdict")).toBe("PASSED");
    // Focus moves to the result for keyboard and screen-reader users.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("result");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("with its payload the receipt is Valid; with another payload it is Invalid", async () => {
    const { page, problems } = await open("/verify/receipt/");
    const text = JSON.stringify(stack.receipts.fresh);
    // Same JSON, other key order and spacing: compared canonically.
    const payload = `{ "amount": 1250, "decision": "approve", "claim": "CLM-2026-0042" }`;
    expect(await verifyReceiptInPage(page, text, payload)).toBe("PASSED");
    expect(await page.locator("#verdict").textContent()).toContain("payload you supplied is the one");
    const requests = await requestsDuring(page, async () => {
      expect(
        await verifyReceiptInPage(page, text, `{"claim":"CLM-2026-0042","decision":"approve","amount":12500}`),
      ).toBe("FAILED");
    });
    expect(requests).toEqual([]);
    expect(await page.locator("#reasons").textContent()).toContain(
      "payload you supplied is not the one the agent signed",
    );
    await shot(page, "receipt-payload-mismatch");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("the same receipt with one character changed is Invalid, with the reason shown", async () => {
    const { page, problems } = await open("/verify/receipt/");
    const original = JSON.stringify(stack.receipts.fresh, null, 2);
    const ph: string = stack.receipts.fresh.entry.payloadHash;
    const flipped = (ph[0] === "a" ? "b" : "a") + ph.slice(1);
    const tampered = original.replace(ph, flipped);
    expect(tampered.length).toBe(original.length);
    expect([...tampered].filter((c, i) => c !== original[i]).length).toBe(1);
    expect(await verifyReceiptInPage(page, tampered)).toBe("FAILED");
    expect(await page.locator("#verdict .verdict-word").textContent()).toBe("Invalid");
    const reasons = (await page.locator("#reasons").textContent()) ?? "";
    expect(reasons).toContain("changed after it was signed");
    await shot(page, "receipt-invalid-tampered");

    // A changed signature character: the signature no longer matches.
    const sig: string = stack.receipts.fresh.entry.sig;
    const i = 10;
    const badSig = sig.slice(0, i) + (sig[i] === "A" ? "B" : "A") + sig.slice(i + 1);
    expect(await verifyReceiptInPage(page, original.replace(sig, badSig))).toBe("FAILED");
    expect(await page.locator("#reasons").textContent()).toContain("signature does not match");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("a receipt signed before a rotation is Valid and shows the key as disabled", async () => {
    const { page, problems } = await open("/verify/receipt/");
    expect(await verifyReceiptInPage(page, JSON.stringify(stack.receipts.beforeRotation))).toBe("PASSED");
    expect(await page.locator("#key-state").textContent()).toContain("Disabled");
    const timeline = (await page.locator("#timeline").textContent()) ?? "";
    expect(timeline).toContain("superseded");
    expect(timeline).toContain("Key disabled");
    // ...and the first signature after the rotation is Valid with the new, enabled key.
    await shot(page, "receipt-valid-rotated-key-disabled");
    expect(await verifyReceiptInPage(page, JSON.stringify(stack.receipts.afterRotation))).toBe("PASSED");
    expect(await page.locator("#key-state").textContent()).toContain("Enabled");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("after revocation the API refuses to sign (409); a receipt whose certificate is revoked gets the verifier's verdict", async () => {
    expect(stack.afterRevoke.status).toBe(409);
    expect(stack.afterRevoke.json.code).toBe("ERR_NO_ACTIVE_CERTIFICATE");

    const receipt = stack.receipts.revoked;
    const expected = await verifyReceipt(receipt, {
      trust: { caCertificate: stack.directory.ca.pem },
      crls: [stack.directory.crl.pem],
    });
    // No checkpoint in the receipt: nothing proves it was signed before the revocation.
    if (!receipt.checkpoint) expect(expected.verdict).toBe("INDETERMINATE");

    const { page, problems } = await open("/verify/receipt/");
    expect(await verifyReceiptInPage(page, JSON.stringify(receipt))).toBe(expected.verdict);
    const word = { PASSED: "Valid", FAILED: "Invalid", INDETERMINATE: "Cannot be determined" }[expected.verdict];
    expect(await page.locator("#verdict .verdict-word").textContent()).toBe(word);
    if (expected.verdict === "INDETERMINATE") {
      expect(await page.locator("#reasons").textContent()).toContain("ERR_NO_POE");
      expect(await page.locator("#reasons").textContent()).toContain("revoked");
    }
    expect(await page.locator("#timeline").textContent()).toContain("revoked (keyCompromise)");
    await shot(page, "receipt-revoked-cannot-be-determined");
    // One verdict per input (issue 13): the CLI given the same CRL (`--crl`, the directory's) agrees.
    const sb = cliSandbox("kakunin-e2e-cli-");
    const c = sb.cli(
      "receipt",
      sb.file(JSON.stringify(receipt)),
      "--ca",
      sb.file(stack.directory.ca.pem),
      "--crl",
      sb.file(stack.directory.crl.pem),
      "--json",
    );
    expect(c.json?.verdict).toBe(expected.verdict);
    expect(c.status).toBe(EXIT[expected.verdict]);

    // Stripped of any checkpoint, it is always Cannot be determined (NO_POE).
    const { checkpoint: _cp, ...bare } = receipt as Json;
    expect(await verifyReceiptInPage(page, JSON.stringify(bare))).toBe("INDETERMINATE");
    expect(await page.locator("#reasons").textContent()).toContain("NO_POE");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("garbage input shows a clear message next to the field, and no verdict", async () => {
    const { page, problems } = await open("/verify/receipt/");
    const cases: [string, RegExp][] = [
      ["", /Paste a receipt/],
      ["this is not a receipt", /not valid JSON/],
      ["[1,2,3]", /not a receipt/],
      [`{"format":"something-else/1"}`, /not a Kakunin receipt/],
      [`{"format":"kakunin-receipt/1","entry":{"seq":"x"},"certificates":[]}`, /damaged or incomplete/],
      [
        `{"format":"kakunin-receipt/1","entry":${JSON.stringify(stack.receipts.fresh.entry)},"certificates":["-----BEGIN CERTIFICATE-----\\nnot base64!\\n-----END CERTIFICATE-----"]}`,
        /damaged or incomplete/,
      ],
    ];
    for (const [input, message] of cases) {
      await page.fill("#receipt", input);
      await page.click("#verify");
      await expect.poll(() => page.locator("#receipt-error").textContent(), { timeout: 10_000 }).toMatch(message);
      expect(await page.getAttribute("#receipt", "aria-invalid")).toBe("true");
      expect(await page.locator("#result").isHidden()).toBe(true);
    }
    await shot(page, "receipt-garbage-error");
    // A file that is not text at all.
    await page.setInputFiles("#receipt-file", {
      name: "photo.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x81, 0xfe]),
    });
    await expect.poll(() => page.locator("#receipt-status").textContent()).toContain("photo.bin");
    await page.click("#verify");
    await expect.poll(() => page.locator("#receipt-error").textContent()).toMatch(/Paste a receipt|not valid JSON/);
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!RUN)("verify a signature", () => {
  it("a bare signature verifies against a directory agent, with no network request", async () => {
    const { page, problems } = await open("/verify/signature/");
    const entry = stack.receipts.fresh.entry;
    const { hash: _h, sig, ...unsigned } = entry;
    void _h;
    const message = new TextDecoder().decode(entryCanonicalBytes(unsigned));
    await page.fill("#signature", sig);
    await page.fill("#message", message);
    await page.selectOption("#agent-cert", entry.signer.cert);
    const requests = await requestsDuring(page, async () => {
      await page.click("#verify");
      await page.locator("#verdict").waitFor({ timeout: 20_000 });
    });
    expect(requests).toEqual([]);
    expect(await page.locator("#verdict").getAttribute("data-verdict")).toBe("PASSED");
    expect(await page.locator("#verdict").textContent()).toContain("claims-assistant");
    await shot(page, "signature-valid");

    // Same signature, message changed by one character: Invalid.
    await page.fill("#message", message.replace("agent.operation", "agent.operatioN"));
    await page.click("#verify");
    await expect.poll(() => page.locator("#verdict").getAttribute("data-verdict")).toBe("FAILED");
    expect(await page.locator("#reasons").textContent()).toContain("signature does not match");
    await shot(page, "signature-invalid");

    // With the certificate pasted as PEM instead of picked: Valid again.
    await page.fill("#message", message);
    await page.check("#signer-source-pem");
    await page.fill("#cert-pem", stack.receipts.fresh.certificates[0]);
    await page.click("#verify");
    await expect.poll(() => page.locator("#verdict").getAttribute("data-verdict")).toBe("PASSED");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("garbage signature or certificate input gets a message next to the field", async () => {
    const { page, problems } = await open("/verify/signature/");
    await page.fill("#signature", "not base64 at all!!");
    await page.fill("#message", "hello");
    await page.click("#verify");
    await expect.poll(() => page.locator("#signature-error").textContent()).toContain("not valid base64");
    await page.fill("#signature", "AAAA");
    await page.check("#signer-source-pem");
    await page.fill("#cert-pem", "hello");
    await page.click("#verify");
    await expect.poll(() => page.locator("#cert-pem-error").textContent()).toContain("not a PEM certificate");
    await page.fill("#cert-pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----");
    await page.click("#verify");
    await expect.poll(() => page.locator("#cert-pem-error").textContent()).toContain("could not be read");
    expect(await page.locator("#result").isHidden()).toBe(true);
    await shot(page, "signature-garbage-error");
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!RUN)("verify a log", () => {
  async function verifyLogInPage(page: Page, name: string, text: string): Promise<string> {
    await page.setInputFiles("#log-file", { name, mimeType: "application/x-ndjson", buffer: Buffer.from(text) });
    await page.click("#verify");
    const verdict = page.locator("#verdict");
    await verdict.waitFor({ timeout: 60_000 });
    return (await verdict.getAttribute("data-verdict")) ?? "";
  }

  it("an intact export is Valid, verified in Web Workers with no network request", async () => {
    const { page, problems } = await open("/verify/log/");
    let verdict = "";
    const requests = await requestsDuring(page, async () => {
      verdict = await verifyLogInPage(page, "export.ndjson", stack.exportText);
    });
    expect(verdict).toBe("PASSED");
    expect(requests).toEqual([]);
    const entries = stack.exportText.split("\n").filter((l) => l.includes('"kind":"entry"')).length;
    expect(await page.locator("#progress-text").getAttribute("data-entries")).toBe(String(entries));
    expect(await page.locator("#progress").getAttribute("value")).toBe("1");
    expect(await page.locator("#failing-none").count()).toBe(1);
    await shot(page, "log-valid");
    expect(problems).toEqual([]);
    await page.close();
  });

  it("an export with a deleted entry is Invalid and the table shows the failing seq", async () => {
    const lines = stack.exportText.split("\n");
    const victim = 5;
    const kept = lines.filter((l) => !(l.includes('"kind":"entry"') && JSON.parse(l).entry.seq === victim));
    expect(kept.length).toBe(lines.length - 1);
    const tampered = kept.join("\n");
    const expected = await verifyExport(kept, { trust: { caCertificate: stack.directory.ca.pem } });
    expect(expected.verdict).toBe("FAILED");
    const failingSeqs = [...new Set(expected.findings.filter((f) => f.verdict !== "PASSED").map((f) => f.seq))];
    expect(failingSeqs.length).toBeGreaterThan(0);

    const { page, problems } = await open("/verify/log/");
    expect(await verifyLogInPage(page, "export-deleted.ndjson", tampered)).toBe("FAILED");
    expect(await page.locator("#verdict .verdict-word").textContent()).toBe("Invalid");
    for (const seq of failingSeqs) {
      const row = page.locator(`#failing tr[data-seq="${seq}"]`);
      expect(await row.count()).toBeGreaterThan(0);
      expect(await row.first().textContent()).toContain("chain of records is broken");
    }
    expect(await page.locator("#failing").textContent()).toContain(`expected seq ${victim}`);
    await shot(page, "log-deleted-entry-invalid");

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-report")]);
    const report = JSON.parse(await (await import("node:fs/promises")).readFile((await download.path())!, "utf8"));
    expect(report.verdict).toBe("FAILED");
    expect(report.findings.map((f: Json) => f.seq)).toEqual(expect.arrayContaining(failingSeqs));
    expect(problems).toEqual([]);
    await page.close();
  });

  it("garbage instead of a log gets a message next to the field", async () => {
    const { page, problems } = await open("/verify/log/");
    await page.click("#verify");
    await expect.poll(() => page.locator("#log-file-error").textContent()).toContain("Choose an exported log file");
    await page.setInputFiles("#log-file", {
      name: "notes.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("dear regulator,\nplease find attached\n"),
    });
    await page.click("#verify");
    await expect.poll(() => page.locator("#log-file-error").textContent()).toContain("not a Kakunin log export");
    await page.setInputFiles("#log-file", {
      name: "receipt.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(stack.receipts.fresh)),
    });
    await page.click("#verify");
    await expect.poll(() => page.locator("#log-file-error").textContent()).toContain("looks like a receipt");
    expect(await page.locator("#result").isHidden()).toBe(true);
    // A header followed by junk lines: verified, and the junk is reported by line.
    const header = stack.exportText.split("\n")[0]!;
    await page.setInputFiles("#log-file", {
      name: "junk.ndjson",
      mimeType: "application/x-ndjson",
      buffer: Buffer.from(`${header}\n{not json\n\u0000\u0001binary\n`),
    });
    await page.click("#verify");
    await page.locator("#verdict").waitFor({ timeout: 20_000 });
    expect(await page.locator("#verdict").getAttribute("data-verdict")).not.toBe("PASSED");
    await shot(page, "log-garbage");
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe.skipIf(!RUN)("the built site", () => {
  it("builds without a directory, says no CA is pinned, and refuses to verify without a console error", async () => {
    const outDir = join(stack.tmp, "dist-empty");
    await buildPortal({ directoryFile: "none", outDir });
    const site = await serveSite({ dir: outDir, port: 0 });
    try {
      for (const path of ["/", "/verify/receipt/", "/verify/signature/", "/verify/log/", "/agents/", "/ca/"]) {
        const page = await context.newPage();
        const problems: string[] = [];
        page.on("console", (m) => (m.type() === "error" || m.type() === "warning") && problems.push(m.text()));
        page.on("pageerror", (e) => problems.push(e.message));
        await page.goto(site.url + path, { waitUntil: "networkidle" });
        expect(await page.locator("footer").textContent()).toContain("no CA is pinned");
        expect(await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content")).toContain(
          "connect-src 'none'",
        );
        if (path === "/verify/receipt/") {
          await page.fill("#receipt", JSON.stringify(stack.receipts.fresh));
          await page.click("#verify");
          await expect
            .poll(() => page.locator("#receipt-error").textContent())
            .toContain("pins no certificate authority");
          await shot(page, "no-directory-receipt");
        }
        expect(problems, path).toEqual([]);
        await page.close();
      }
    } finally {
      await site.close();
    }
  });

  it("ships at most 200 KB of gzipped JavaScript per verify page", async () => {
    const { gzipSync } = await import("node:zlib");
    const sizes: Record<string, number> = {};
    for (const path of ["/verify/receipt/", "/verify/signature/", "/verify/log/"]) {
      const page = await context.newPage();
      const scripts = new Set<string>();
      page.on("response", (r) => {
        const type = r.headers()["content-type"] ?? "";
        if (type.includes("javascript")) scripts.add(r.url());
      });
      await page.goto(stack.site.url + path, { waitUntil: "networkidle" });
      let total = 0;
      for (const url of scripts)
        total += gzipSync(Buffer.from(await (await fetch(url)).arrayBuffer()), { level: 9 }).length;
      sizes[path] = total;
      await page.close();
    }
    await writeFile(join(SHOTS, "js-sizes.json"), JSON.stringify(sizes, null, 2) + "\n");
    console.log("portal JS per verify page (gzipped bytes, incl. workers):", sizes);
    for (const [path, size] of Object.entries(sizes)) expect(size, path).toBeLessThanOrEqual(200 * 1024);
  });
});
