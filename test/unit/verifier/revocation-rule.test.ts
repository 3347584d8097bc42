/**
 * Issue 13 class 7 — one verdict per input. One revocation-data rule for the CLI, the library and
 * the portal: of the CRLs available (the input's own, `--crl FILE` / `crls`, an explicit
 * `--online` fetch), the newest valid one (highest cRLNumber) decides; offline is the default. The
 * report names the deciding CRL (number, thisUpdate, source) and whether it may be stale.
 */
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { verifyExport, verifyReceipt } from "../../../verifier/src/index.js";
import { ChainBuilder } from "./fixtures/chain.js";
import { BIN, cliSandbox, EXIT } from "./fixtures/cli.js";
import { issueAgent, makeCrl } from "./fixtures/pki.js";
import { scenario, type Scenario } from "./fixtures/scenario.js";

let s: Scenario;
/** CRL #4: a2 revoked (keyCompromise) after its operations. */
let newer: string;
const box = cliSandbox("kakunin-revrule-");
beforeAll(async () => {
  s = await scenario();
  newer = await makeCrl(
    s.ca,
    [
      { serial: s.b1.serial, date: new Date(s.chain.timeOf(7)) },
      { serial: s.a2.serial, date: new Date(Date.now() - 2000) },
    ],
    4,
  );
}, 120_000);
const trust = () => ({ caFingerprint: s.ca.fingerprint });

describe("the newest valid CRL decides, everywhere", () => {
  it("receipt revoked after the operation: the receipt's own CRL alone says PASSED; with a newer CRL, library and CLI both say INDETERMINATE and name CRL #4", async () => {
    const rc = await s.chain.receipt(5, { crl: s.crl }, s.signerOf);
    const own = await verifyReceipt(rc, { trust: trust() });
    expect(own.verdict).toBe("PASSED");
    expect(own.subject?.crl).toMatchObject({ number: "3", source: "the receipt", stale: false });
    const r = await verifyReceipt(rc, { trust: trust(), crls: [newer] });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.findings[0]).toMatchObject({ reason: "NO_POE" });
    expect(r.subject?.crl?.number).toBe("4");
    expect(r.subject?.revocation).toMatchObject({ status: "revoked", reason: "keyCompromise", crlNumber: "4" });
    const f = box.file(JSON.stringify(rc));
    const crlFile = box.file(newer, "newer-crl.pem");
    const c = box.cli("receipt", f, "--ca-fingerprint", s.ca.fingerprint, "--crl", crlFile, "--json");
    expect(c.status).toBe(EXIT.INDETERMINATE);
    expect(c.json!.subject!.crl).toMatchObject({ number: "4", source: `--crl ${crlFile}`, stale: false });
    expect(c.json!.steps.find((x) => x.name === "CRL")?.detail).toMatch(/CRL #4 \(thisUpdate .*, from --crl /);
    // Offline is the default: without --crl the CLI sees what the library sees with the receipt alone.
    expect(box.cli("receipt", f, "--ca-fingerprint", s.ca.fingerprint).status).toBe(EXIT[own.verdict]);
  });
  it("an older CRL cannot override a newer one, whichever carries it", async () => {
    const older = await makeCrl(s.ca, [], 2);
    const rc = await s.chain.receipt(5, { crl: newer }, s.signerOf);
    const r = await verifyReceipt(rc, { trust: trust(), crls: [older] });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.subject?.crl).toMatchObject({ number: "4", source: "the receipt" });
  });
  it("export: --crl FILE / crls adds revocation data under the same rule (library and CLI agree)", async () => {
    const lib = await verifyExport(s.lines, { trust: trust(), crls: [newer] });
    expect(lib.verdict).toBe("INDETERMINATE");
    for (const seq of [5, 8, 9])
      expect(lib.findings).toContainEqual(expect.objectContaining({ seq, reason: "NO_POE" }));
    expect(lib.subject?.crl?.number).toBe("4");
    const exp = box.file(s.lines.join("\n") + "\n");
    const c = box.cli(
      "log",
      exp,
      "--ca-fingerprint",
      s.ca.fingerprint,
      "--crl",
      box.file(newer),
      "--json",
      "--workers",
      "1",
    );
    expect(c.status).toBe(EXIT.INDETERMINATE);
    expect(c.json!.findings.map((x) => x.seq)).toEqual(lib.findings.map((x) => x.seq));
    expect(box.cli("log", exp, "--ca-fingerprint", s.ca.fingerprint).status).toBe(0);
  });
  it("a stale deciding CRL is reported as such", async () => {
    const stale = await makeCrl(s.ca, [], 5, {
      thisUpdate: new Date(Date.now() - 20 * 86_400_000),
      nextUpdate: new Date(Date.now() - 10 * 86_400_000),
    });
    const r = await verifyReceipt(await s.chain.receipt(5, { crl: stale }, s.signerOf), { trust: trust() });
    expect(r.verdict).toBe("INDETERMINATE");
    expect(r.subject?.crl).toMatchObject({ number: "5", stale: true });
  });
  it("--online fetches the CRL the certificate points to (explicit only), same verdict as --crl with that file", async () => {
    let served = 0;
    let crlNow = "";
    const srv = createServer((_req, res) => {
      served++;
      res.writeHead(200, { "content-type": "application/x-pem-file" }).end(crlNow);
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1/public/crl.pem`;
    try {
      const agent = await issueAgent(s.ca, "agt_online", {
        extraExtensions: [new x509.CRLDistributionPointsExtension([url])],
      });
      const chain = new ChainBuilder(s.ca, s.log);
      await chain.registered(agent);
      await chain.operation(agent);
      crlNow = await makeCrl(s.ca, [{ serial: agent.serial, date: new Date(Date.now() - 1000) }], 7);
      const rc = await chain.receipt(1, { crl: await makeCrl(s.ca, [], 6) }, () => agent);
      const f = box.file(JSON.stringify(rc));
      const run = (...args: string[]) =>
        new Promise<{ status: number | null; out: string }>((resolve) => {
          const p = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
          let out = "";
          p.stdout.on("data", (d) => (out += d));
          p.on("close", (status) => resolve({ status, out }));
        });
      const offline = await run("receipt", f, "--ca-fingerprint", s.ca.fingerprint);
      expect(offline.status).toBe(0);
      expect(served).toBe(0); // offline by default: nothing fetched
      const online = await run("receipt", f, "--ca-fingerprint", s.ca.fingerprint, "--online", "--json");
      expect(served).toBe(1);
      expect(online.status).toBe(EXIT.INDETERMINATE);
      expect(JSON.parse(online.out).subject.crl).toMatchObject({
        number: "7",
        source: expect.stringContaining(`--online ${url}`),
      });
      const lib = await verifyReceipt(rc, { trust: trust(), crls: [crlNow] });
      expect(lib.verdict).toBe("INDETERMINATE");
    } finally {
      srv.close();
    }
  });
});
