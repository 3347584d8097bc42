/**
 * kakunin-receipt/2 verification (issues 15, 16, 17) from real pieces: a real server's v1 receipts
 * and export (child process, local KMS), an RFC 9162 tree over its entries with a checkpoint signed
 * by a real Ed25519 key, cosigned by two real kakunin-witness processes, timestamped by the real
 * dev TSA; then the agent revoked for keyCompromise. Every trust decision gets its attacker input,
 * through the library and the CLI.
 */
import "reflect-metadata";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyReceipt, type Report, type TrustMaterial } from "../../../verifier/src/index.js";
import { parsePolicy, formatTlogProof, parseTlogProof } from "../../../verifier/src/formats/index.js";
import { parseTsaBundle } from "../../../verifier/src/timestamp/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { startDevTsa, type DevTsa } from "../../helpers/tsa.js";
import { agentPki } from "../../helpers/tsa-evidence.js";
import { cosignerKey, logKey, type LogKey } from "../../helpers/witness-keys.js";
import type { WitnessProcess } from "../../helpers/witness.js";
import { cliSandbox, EXIT } from "../../unit/verifier/fixtures/cli.js";
import { inNode, tokenLayout } from "../../helpers/tsa-der.js";
import { cosign, EntryTree, receiptV2, signedNote, stamp, witnessFor } from "./v2-fixture.js";
import { jsonOk } from "../../helpers/http-json.js";

type Json = Record<string, any>;
let kms: LocalKms;
let srv: RunningServer;
let tsa: DevTsa;
let w1: WitnessProcess;
let w2: WitnessProcess;
let caPem: string;
let crlNow: string;
let tsaPem: string;
let key: LogKey;
let origin: string;
let tree: EntryTree;
let v1: Json; // receipt of the first operation (revoked for keyCompromise later)
let v1Other: Json; // receipt of the second operation
let note: string; // the checkpoint cosigned by both witnesses
let text: string;
let token: Uint8Array; // dev TSA, before the revocation
let lateToken: Uint8Array; // dev TSA, same checkpoint, after the revocation
let otherToken: Uint8Array; // dev TSA, over the checkpoint of a smaller tree
let policyText: string;
const box = cliSandbox("kakunin-receipt-v2-");

const ok = (method: string, path: string, token: string, body?: unknown): Promise<Json> =>
  jsonOk(srv.url, method, path, token, body);

beforeAll(async () => {
  kms = await startLocalKms();
  [srv, tsa] = await Promise.all([
    startServer({ kmsEndpoint: kms.endpoint, env: { KAKUNIN_AGENT_VALIDITY_DAYS: "1" } }),
    startDevTsa(kms.endpoint),
  ]);
  const iss = await ok("POST", "/v1/issuers", srv.operatorToken, { name: "Receipts v2 Co" });
  const agent = await ok("POST", "/v1/agents", iss.token, { name: "v2-bot" });
  v1 = await ok("POST", `/v1/agents/${agent.id}/operations`, iss.token, { payload: { pay: 1 } });
  v1Other = await ok("POST", `/v1/agents/${agent.id}/operations`, iss.token, { payload: { pay: 2 } });
  const entries = (await ok("GET", "/v1/log/export", iss.token)).text
    .split("\n")
    .filter((l: string) => l.length > 0)
    .map((l: string) => JSON.parse(l))
    .filter((l: Json) => l.kind === "entry")
    .map((l: Json) => l.entry);
  tree = await EntryTree.of(entries);
  origin = `kakunin.test/${v1.entry.issuer}`;
  key = await logKey(origin);
  text = await tree.text(origin);
  [w1, w2] = await Promise.all([witnessFor("w1", [key.vkey]), witnessFor("w2", [key.vkey])]);
  const bare = await key.signNote(text);
  note = bare + (await cosign(w1, bare)) + (await cosign(w2, bare));
  tsaPem = await (await fetch(`${tsa.url}/v1/public/tsa-ca.pem`)).text();
  const trusted = parseTsaBundle(tsaPem).trusted;
  token = await stamp(tsa.url + "/", trusted, text);
  otherToken = await stamp(tsa.url + "/", trusted, await tree.text(origin, tree.size - 1));
  // CRL dates have 1-second precision: revoke well after the token.
  await new Promise((r) => setTimeout(r, 2100));
  await ok("POST", `/v1/agents/${agent.id}/revoke`, iss.token, { reason: "keyCompromise" });
  crlNow = await (await fetch(`${srv.url}/v1/public/crl.pem`)).text();
  await new Promise((r) => setTimeout(r, 1100));
  lateToken = await stamp(tsa.url + "/", trusted, text);
  caPem = await (await fetch(`${srv.url}/v1/public/ca.pem`)).text();
  policyText = `log ${key.vkey}\nwitness W1 ${w1.vkey}\nwitness W2 ${w2.vkey}\ngroup both all W1 W2\nquorum both\n`;
}, 240_000);

afterAll(async () => {
  await Promise.all([w1?.stop(), w2?.stop(), tsa?.stop(), srv?.stop()]);
  await kms?.stop();
});

const seq = () => v1.entry.seq as number;
const good = async (tokens: Uint8Array[] = [token], n = note) =>
  receiptV2(v1, seq(), await tree.proof(seq()), n, tokens);
const material = async (o: Partial<TrustMaterial> = {}): Promise<TrustMaterial> => ({
  ca: { caCertificate: caPem },
  policy: await parsePolicy(policyText),
  tsa: parseTsaBundle(tsaPem),
  ...o,
});
const verdictOf = (r: Report) => ({ verdict: r.verdict, code: r.findings[0]?.code });

describe("kakunin-receipt/2 from real pieces", () => {
  it("pinned log key, its own CRL: PASSED, with the checkpoint and inclusion in the report", async () => {
    const r = await verifyReceipt(await good([]), { trust: { ca: { caCertificate: caPem }, logKeys: [key.key] } });
    expect(verdictOf(r)).toEqual({ verdict: "PASSED", code: "OK" });
    expect(r.subject?.log).toMatchObject({ origin, size: tree.size, index: seq() });
    expect(r.subject?.log?.logSignedBy?.[0]).toMatch(new RegExp(`^${origin}\\+[0-9a-f]{8}$`));
    expect(r.steps.map((s) => [s.name, s.status])).toContainEqual(["log inclusion", "passed"]);
    expect(r.simple).toMatchObject({ verdict: "PASSED", format: "kakunin-simple-report/1" });
  });

  it("no log key pinned: INDETERMINATE ERR_LOG_KEY_NOT_PINNED, never PASSED; v1 receipts unchanged", async () => {
    const r = await verifyReceipt(await good([]), { trust: { caCertificate: caPem } });
    expect(verdictOf(r)).toEqual({ verdict: "INDETERMINATE", code: "ERR_LOG_KEY_NOT_PINNED" });
    expect(r.simple?.verdict).toBe("INDETERMINATE");
    expect((await verifyReceipt(v1, { trust: { caCertificate: caPem } })).verdict).toBe("PASSED");
  });

  it("revoked for keyCompromise after the timestamp: PASSED by the POE (TSA, genTime), both witnesses listed", async () => {
    const r = await verifyReceipt(await good(), { trust: await material(), crls: [crlNow] });
    expect(verdictOf(r)).toEqual({ verdict: "PASSED", code: "OK" });
    expect(r.subject?.revocation).toMatchObject({ status: "revoked", reason: "keyCompromise" });
    expect(r.subject?.log?.witnesses?.map((w) => [w.name, w.status])).toEqual([
      ["W1", "cosigned"],
      ["W2", "cosigned"],
    ]);
    expect(r.subject?.poe?.decidedBy?.tsa.name).toMatch(/Kakunin Dev TSA/);
    expect(r.subject?.poe?.control?.kind).toBe("revocation");
    expect(r.simple).toMatchObject({ verdict: "PASSED", bestPoe: { decisive: true, checkpoint: { origin } } });
    expect(r.detailed?.blocks.pastSignatureValidation.indication).toBe("PASSED");
  });

  it("the same without the timestamps: INDETERMINATE ERR_NO_POE (REVOKED_NO_POE)", async () => {
    const r = await verifyReceipt(await good([]), { trust: await material(), crls: [crlNow] });
    expect(verdictOf(r)).toEqual({ verdict: "INDETERMINATE", code: "ERR_NO_POE" });
    expect(r.simple).toMatchObject({ verdict: "INDETERMINATE", reason: "REVOKED_NO_POE" });
  });

  it("expired (1-day certificate, clock an hour past notAfter): PASSED by the POE; without timestamps INDETERMINATE ERR_EXPIRED_NO_POE", async () => {
    const notAfter = Date.parse(
      (await verifyReceipt(v1, { trust: { caCertificate: caPem } })).subject!.certificate!.notAfter,
    );
    const now = new Date(notAfter + 3_600_000);
    // The receipt's own CRL (made before the revocation, still fresh at `now`): the certificate is only expired.
    const r = await verifyReceipt(await good(), { trust: await material(), now });
    expect(verdictOf(r)).toEqual({ verdict: "PASSED", code: "OK" });
    expect(r.subject?.poe?.control?.kind).toBe("expiry");
    expect(r.simple?.bestPoe?.decisive).toBe(true);
    const none = await verifyReceipt(await good([]), { trust: await material(), now });
    expect(verdictOf(none)).toEqual({ verdict: "INDETERMINATE", code: "ERR_EXPIRED_NO_POE" });
    expect(none.simple).toMatchObject({ verdict: "INDETERMINATE", reason: "EXPIRED_NO_POE" });
    // Without --tsa the v1 rule stands: the entry's time was within the validity period.
    expect((await verifyReceipt(await good([]), { trust: await material({ tsa: undefined }), now })).verdict).toBe(
      "PASSED",
    );
  });

  it("TSA attacks: untrusted TSA, token over another checkpoint, genTime after the revocation → INDETERMINATE; a flipped byte → FAILED", async () => {
    const untrusted = parseTsaBundle((await agentPki("CN=Not A TSA")).ca.toString("pem"));
    const cases: [Uint8Array[], Partial<TrustMaterial>, string, string][] = [
      [[token], { tsa: untrusted }, "INDETERMINATE", "ERR_NO_POE"],
      [[otherToken], {}, "INDETERMINATE", "ERR_NO_POE"],
      [[lateToken], {}, "INDETERMINATE", "ERR_NO_POE"],
    ];
    const flipped = new Uint8Array(token);
    flipped[flipped.length - 1]! ^= 1;
    cases.push([[flipped], {}, "FAILED", "ERR_TIMESTAMP"]);
    const tokenCodes: string[] = [];
    for (const [tokens, o, verdict, code] of cases) {
      const r = await verifyReceipt(await good(tokens), { trust: await material(o), crls: [crlNow] });
      expect(verdictOf(r)).toEqual({ verdict, code });
      tokenCodes.push(r.subject!.poe!.tokens[0]!.code);
    }
    expect(tokenCodes).toEqual([
      "ERR_TSA_UNTRUSTED",
      "ERR_POE_IMPRINT",
      "ERR_POE_AFTER_REVOCATION",
      "ERR_TSA_SIGNATURE",
    ]);
  });

  it("log attacks: forged signature, attacker key, wrong origin, wrong leaf/index, proof for another tree size → FAILED", async () => {
    const proof = await tree.proof(seq());
    const lines = note.split("\n");
    const logLine = lines.findIndex((l) => l.startsWith(`\u2014 ${origin} `));
    const forged = [...lines];
    const sig = forged[logLine]!;
    forged[logLine] = sig.slice(0, -20) + (sig.at(-20) === "A" ? "B" : "A") + sig.slice(-19);
    const impostor = await logKey(origin);
    const otherOrigin = `kakunin.test/iss_someone_else`;
    const otherKey = await logKey(otherOrigin);
    const cases: [string, Json, Partial<TrustMaterial>, string][] = [
      ["forged log signature", receiptV2(v1, seq(), proof, forged.join("\n")), {}, "ERR_LOG_SIGNATURE"],
      ["attacker's key", receiptV2(v1, seq(), proof, await impostor.signNote(text)), {}, "ERR_LOG_SIGNATURE"],
      [
        "wrong origin, signed by a pinned key for it",
        receiptV2(v1, seq(), proof, await otherKey.signNote(await tree.text(otherOrigin))),
        { logKeys: [otherKey.key], policy: await parsePolicy("quorum none\n") },
        "ERR_INCLUSION",
      ],
      ["wrong index", receiptV2(v1, seq() + 1, await tree.proof(seq() + 1), note), {}, "ERR_INCLUSION"],
      ["another entry's proof", receiptV2(v1Other, seq(), proof, note), {}, "ERR_INCLUSION"],
      [
        "proof for another tree size",
        receiptV2(v1, seq(), await tree.proof(seq(), tree.size - 1), note),
        {},
        "ERR_INCLUSION",
      ],
    ];
    for (const [name, receipt, o, code] of cases) {
      const r = await verifyReceipt(receipt, { trust: await material(o), crls: [crlNow] });
      expect(verdictOf(r), name).toEqual({ verdict: "FAILED", code });
    }
  });

  it("witness attacks: cosignature from an unpinned key, duplicated cosigner line, missing witness → INDETERMINATE ERR_WITNESS_QUORUM naming W2", async () => {
    const bare = await key.signNote(text);
    const w1Line = note.split("\n").find((l) => l.startsWith("\u2014 w1.example/witness "))!;
    const fake = await cosignerKey("w2.example/witness"); // W2's name, not W2's key
    const notes = [
      bare + (await fake.cosign(text)) + `${w1Line}\n`,
      bare + `${w1Line}\n${w1Line}\n`,
      bare + `${w1Line}\n`,
    ];
    for (const n of notes) {
      const r = await verifyReceipt(await good([token], n), { trust: await material(), crls: [crlNow] });
      expect(verdictOf(r)).toEqual({ verdict: "INDETERMINATE", code: "ERR_WITNESS_QUORUM" });
      expect(r.findings[0]!.message).toMatch(/missing: W2/);
      expect(r.subject?.log?.witnesses?.map((w) => w.status)).toEqual(["cosigned", "missing"]);
    }
    // A pinned witness's line that does not verify is FAILED.
    const w2Line = note.split("\n").find((l) => l.startsWith("\u2014 w2.example/witness "))!;
    // A character inside the signature (not the last ones: base64 padding bits must stay canonical).
    const bad = w2Line.slice(0, -20) + (w2Line.at(-20) === "A" ? "B" : "A") + w2Line.slice(-19);
    const r = await verifyReceipt(await good([token], `${bare}${w1Line}\n${bad}\n`), {
      trust: await material(),
      crls: [crlNow],
    });
    expect(verdictOf(r)).toEqual({ verdict: "FAILED", code: "ERR_COSIGNATURE" });
  });

  it("property: mutating any character of the signed proof text or the entry never gives PASSED", async () => {
    const base = await good();
    const trust = await material({ tsa: undefined });
    expect((await verifyReceipt(base, { trust })).verdict).toBe("PASSED");
    const entryText = JSON.stringify(base.entry);
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.nat(), fc.integer({ min: 0x20, max: 0x7e }), async (inProof, at, ch) => {
        const src: string = inProof ? base.proof : entryText;
        const i = at % src.length;
        if (src.charCodeAt(i) === ch) return;
        const mutated = src.slice(0, i) + String.fromCharCode(ch) + src.slice(i + 1);
        let receipt: Json;
        if (inProof) receipt = { ...base, proof: mutated };
        else {
          try {
            receipt = { ...base, entry: JSON.parse(mutated) };
          } catch {
            return; // not JSON: not a receipt a verifier could be fooled by
          }
          if (JSON.stringify(receipt.entry) === entryText) return;
        }
        const r = await verifyReceipt(receipt, { trust });
        expect(r.verdict, `${inProof ? "proof" : "entry"}[${i}] → ${JSON.stringify(String.fromCharCode(ch))}`).not.toBe(
          "PASSED",
        );
      }),
      { numRuns: 150 },
    );
    // The tlog proof itself round-trips: the property mutates the real thing.
    expect(formatTlogProof(parseTlogProof(base.proof))).toBe(base.proof);
  });

  it("property: flipping bits of the timestamp token never gives PASSED for the revoked agent (outside sid name spellings RFC 5280 matching ignores)", async () => {
    const trust = await material();
    expect((await verifyReceipt(await good(), { trust, crls: [crlNow] })).verdict).toBe("PASSED");
    const layout = tokenLayout(token);
    // The dev TSA's token carries only its signer certificate: no unread certificate to ignore.
    expect(layout.certificates?.children.length).toBe(1);
    const STRING_TAGS = new Set([0x0c, 0x12, 0x13, 0x14, 0x15, 0x16, 0x19, 0x1a, 0x1b, 0x1c, 0x1e]);
    const isLetter = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    await fc.assert(
      fc.asyncProperty(fc.nat(token.length - 1), fc.integer({ min: 1, max: 255 }), async (at, mask) => {
        if (
          inNode(layout.sid, at) &&
          ((mask === 0x20 && isLetter(token[at]!)) ||
            (STRING_TAGS.has(token[at]!) && STRING_TAGS.has(token[at]! ^ mask)))
        )
          return;
        const t = new Uint8Array(token);
        t[at]! ^= mask;
        const r = await verifyReceipt(await good([t]), { trust, crls: [crlNow] });
        expect(r.verdict, `byte ${at} ^ ${mask}`).not.toBe("PASSED");
      }),
      { numRuns: 150 },
    );
  });

  it("CLI: --log-key / --policy / --tsa give the library's verdict, --json the simple and detailed reports", async () => {
    const ca = box.file(caPem, "ca.pem");
    const crl = box.file(crlNow, "crl.pem");
    const policy = box.file(policyText, "policy.txt");
    const tsaFile = box.file(tsaPem, "tsa.pem");
    const withTs = box.file(JSON.stringify(await good()), "r2.json");
    const noTs = box.file(JSON.stringify(await good([])), "r2-nots.json");
    const pass = box.cli("receipt", withTs, "--ca", ca, "--crl", crl, "--policy", policy, "--tsa", tsaFile, "--json");
    expect(pass.status, pass.stderr).toBe(EXIT.PASSED);
    const j = pass.json as Json;
    expect(j.simple).toMatchObject({ verdict: "PASSED", bestPoe: { decisive: true } });
    expect(j.detailed.blocks.additional.map((b: Json) => b.name)).toContain("witness quorum");
    expect(j.subject.poe.decidedBy.time).toBe(j.simple.bestPoe.time);
    expect(box.cli("receipt", noTs, "--ca", ca, "--crl", crl, "--policy", policy, "--tsa", tsaFile).status).toBe(
      EXIT.INDETERMINATE,
    );
    expect(box.cli("receipt", noTs, "--ca", ca).status).toBe(EXIT.INDETERMINATE); // no log key pinned
    expect(box.cli("receipt", noTs, "--ca", ca, "--log-key", key.vkey).status).toBe(EXIT.PASSED); // its own CRL
    const human = box.cli("receipt", withTs, "--ca", ca, "--crl", crl, "--policy", policy, "--tsa", tsaFile);
    expect(human.stdout).toMatch(/witnesses: W1 cosigned .*, W2 cosigned/);
    expect(human.stdout).toMatch(/proof of existence: CN=Kakunin Dev TSA/);
    const bad = box.cli("receipt", withTs, "--ca", ca, "--log-key", "not-a-key");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--log-key not-a-key/);
  });
});
