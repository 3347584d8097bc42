/**
 * The verifier against the real server's kakunin-receipt/2 (GET /v1/log/entries/{seq}/receipt),
 * with the log key from GET /v1/public/log-keys: PASSED with the key pinned (library and CLI),
 * INDETERMINATE without, FAILED for a receipt with a mutated proof or entry, or the key of
 * another issuer's log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyReceipt } from "../../../verifier/src/index.js";
import { parseTlogProof, parseVerifierKey } from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { cliSandbox, EXIT } from "../../unit/verifier/fixtures/cli.js";
import { jsonOk } from "../../helpers/http-json.js";

type Json = Record<string, any>;
let kms: LocalKms;
let srv: RunningServer;
let caPem: string;
let receipts: Json[] = [];
let vkeys: string[] = [];
let otherIssuerVkey: string;
const box = cliSandbox("kakunin-server-v2-");

const call = (method: string, path: string, token: string, body?: unknown): Promise<Json> =>
  jsonOk(srv.url, method, path, token, body);

beforeAll(async () => {
  kms = await startLocalKms();
  srv = await startServer({
    kmsEndpoint: kms.endpoint,
    env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "200" },
  });
  const iss = await call("POST", "/v1/issuers", srv.operatorToken, { name: "Server v2 Co" });
  const other = await call("POST", "/v1/issuers", srv.operatorToken, { name: "Other Co" });
  const agent = await call("POST", "/v1/agents", iss.token, { name: "v2-server-bot" });
  await call("POST", "/v1/agents", other.token, { name: "other-bot" });
  for (let i = 0; i < 3; i++) {
    const v1 = await call("POST", `/v1/agents/${agent.id}/operations`, iss.token, { payload: { i } });
    receipts.push(await call("GET", `/v1/log/entries/${v1.entry.seq}/receipt?wait=5`, iss.token));
  }
  caPem = await (await fetch(`${srv.url}/v1/public/ca.pem`)).text();
  const lines = (await (await fetch(`${srv.url}/v1/public/log-keys`)).text()).split("\n").filter((l) => l);
  const origin = parseTlogProof(receipts[0]!.proof).checkpoint.split("\n")[0]!;
  vkeys = lines.filter((l) => l.startsWith(`${origin}+`));
  otherIssuerVkey = lines.find((l) => l.split("+")[0]!.endsWith(`/${other.id}`))!;
}, 180_000);

afterAll(async () => {
  await srv?.stop();
  await kms?.stop();
});

describe("the real server's kakunin-receipt/2", () => {
  it("PASSED with the published log key pinned; INDETERMINATE ERR_LOG_KEY_NOT_PINNED without", async () => {
    expect(vkeys.length).toBeGreaterThan(0);
    const logKeys = await Promise.all(vkeys.map(parseVerifierKey));
    for (const r of receipts) {
      expect(r.format).toBe("kakunin-receipt/2");
      const ok = await verifyReceipt(r, { trust: { ca: { caCertificate: caPem }, logKeys } });
      expect([ok.verdict, ok.findings[0]?.code], JSON.stringify(ok.steps)).toEqual(["PASSED", "OK"]);
      expect(ok.subject?.log?.index).toBe(r.entry.seq);
      const none = await verifyReceipt(r, { trust: { caCertificate: caPem } });
      expect(none.findings[0]?.code).toBe("ERR_LOG_KEY_NOT_PINNED");
    }
  });

  it("the CLI agrees; another issuer's log key, a mutated proof or entry is FAILED", async () => {
    const ca = box.file(caPem, "ca.pem");
    const r = receipts[1]!;
    const file = box.file(JSON.stringify(r), "r.json");
    expect(box.cli("receipt", file, "--ca", ca, ...vkeys.flatMap((k) => ["--log-key", k])).status).toBe(EXIT.PASSED);
    expect(box.cli("receipt", file, "--ca", ca).status).toBe(EXIT.INDETERMINATE);
    expect(box.cli("receipt", file, "--ca", ca, "--log-key", otherIssuerVkey).status).toBe(EXIT.FAILED);
    const logKeys = await Promise.all(vkeys.map(parseVerifierKey));
    const trust = { ca: { caCertificate: caPem }, logKeys };
    const other = receipts[0]!;
    const swapped = { ...r, proof: other.proof }; // another entry's proof
    expect((await verifyReceipt(swapped, { trust })).findings[0]?.code).toBe("ERR_INCLUSION");
    const p = parseTlogProof(r.proof);
    expect(p.proof.length).toBeGreaterThan(0);
    const lines = (r.proof as string).split("\n");
    const h = lines[2]!; // the first proof hash, after the header and the index line
    lines[2] = (h[0] === "A" ? "B" : "A") + h.slice(1);
    expect((await verifyReceipt({ ...r, proof: lines.join("\n") }, { trust })).verdict).toBe("FAILED");
    const entry = {
      ...r.entry,
      payloadHash: (r.entry.payloadHash[0] === "a" ? "b" : "a") + r.entry.payloadHash.slice(1),
    };
    expect((await verifyReceipt({ ...r, entry }, { trust })).verdict).toBe("FAILED");
  });
});
