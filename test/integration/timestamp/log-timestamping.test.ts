/**
 * Log-side checkpoint timestamping against real TSAs over HTTP: the dev TSA (child process, keys
 * in the real local KMS) and `openssl ts -reply` behind a real HTTP server; attacker-controlled
 * TSAs that replay genuine replies; a TSA killed or SIGSTOPped. Each TSA ends in one bounded
 * outcome and nothing throws.
 */
import { createHash } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTimestampingConfig } from "../../../server/log/timestamping/config.js";
import { requestCheckpointTimestamps, type TsaOutcome } from "../../../server/log/timestamping/request-timestamps.js";
import { MemoryTimestampStore } from "../../../server/log/timestamping/store.js";
import { CheckpointTimestamper } from "../../../server/log/timestamping/timestamper.js";
import { checkpointTsr } from "../../../server/log/timestamping/tsr.js";
import { buildTimestampRequest, parseTsaTrustList, readTimestampToken } from "../../../verifier/src/timestamp/index.js";
import type { Bytes } from "../../../verifier/src/formats/bytes.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { createOpensslTsa, run, type OpensslTsa } from "../../helpers/openssl-tsa.js";
import { startDevTsa, type DevTsa } from "../../helpers/tsa.js";
import { serveTsa, type HttpTsa } from "../../helpers/tsa-http.js";
import { checkpointCovering } from "../../helpers/tsa-evidence.js";

let kms: LocalKms;
let dev: DevTsa;
let ossl: OpensslTsa;
let osslHttp: HttpTsa;
let trusted: Bytes[];
let bundlePath: string;
let text: string;
const servers: HttpTsa[] = [];

const sha256 = (s: string) => new Uint8Array(createHash("sha256").update(s, "utf8").digest());
const token = (o: TsaOutcome) => {
  if (o.kind !== "token")
    throw new Error(`expected a token from ${o.url}, got ${o.kind}: ${"message" in o ? o.message : ""}`);
  return o;
};

async function post(url: string, body: Uint8Array): Promise<Uint8Array> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/timestamp-query" },
    body: new Uint8Array(body) as Uint8Array<ArrayBuffer>,
  });
  return new Uint8Array(await res.arrayBuffer());
}

beforeAll(async () => {
  kms = await startLocalKms();
  [dev, ossl] = await Promise.all([startDevTsa(kms.endpoint), createOpensslTsa()]);
  osslHttp = await serveTsa((q) => ossl.reply(q));
  const devCa = await (await fetch(`${dev.url}/v1/public/tsa-ca.pem`)).text();
  bundlePath = join(ossl.dir, "tsa-trust.pem");
  await writeFile(bundlePath, devCa + ossl.caPem);
  trusted = parseTsaTrustList(devCa + ossl.caPem);
  text = (await checkpointCovering(5, 11)).checkpointText;
  await writeFile(join(ossl.dir, "checkpoint.txt"), text);
});

afterAll(async () => {
  await Promise.all([...servers, osslHttp].map((s) => s?.close()));
  await dev?.stop();
  await kms?.stop();
});

describe("tokens over a checkpoint text from real TSAs", () => {
  it("both TSAs answer with a verified token whose imprint is SHA-256 of the text; the request asks certReq with a nonce", async () => {
    const outcomes = await requestCheckpointTimestamps(text, {
      urls: [dev.url + "/", osslHttp.url],
      trusted,
      timeoutMs: 30_000, // not the point here: generous for busy CI machines
      attempts: 2,
    });
    expect(outcomes.map((o) => o.kind)).toEqual(["token", "token"]);
    for (const o of outcomes.map(token)) {
      const info = readTimestampToken(o.token);
      expect(Buffer.from(info.imprint)).toEqual(Buffer.from(sha256(text)));
      expect(info.nonce?.length).toBe(16);
      expect(o.attempts).toBe(1);
    }
    expect(token(outcomes[0]!).tsaName).toMatch(/^CN=Kakunin Dev TSA/);
    expect(token(outcomes[1]!).tsaName).toBe("CN=OpenSSL Test TSA");
    // What openssl itself reads from the query we sent it.
    const q = join(ossl.dir, "sent.tsq");
    await writeFile(q, osslHttp.queries.at(-1)!);
    const shown = (await run("openssl", ["ts", "-query", "-in", q, "-text"])).stdout;
    expect(shown).toMatch(/Hash Algorithm: sha256/);
    expect(shown).toMatch(/Certificate required: yes/);
    expect(shown).toMatch(/Nonce: 0x[0-9A-F]{32}/);
  });

  it("checkpoint.tsr of each token passes openssl ts -verify -data checkpoint -CAfile <its CA>", async () => {
    const outcomes = (
      await requestCheckpointTimestamps(text, {
        urls: [dev.url + "/", osslHttp.url],
        trusted,
        timeoutMs: 30_000, // not the point here: generous for busy CI machines
        attempts: 1,
      })
    ).map(token);
    const stored = outcomes.map((o) => ({
      tsaUrl: o.url,
      token: o.token,
      genTime: o.genTime,
      serialNumber: o.serialNumber,
      policy: o.policy,
      tsaName: o.tsaName,
    }));
    for (const [i, prefer] of [dev.url + "/", osslHttp.url].entries()) {
      const tsr = checkpointTsr(stored, [prefer])!;
      const file = join(ossl.dir, `checkpoint-${i}.tsr`);
      await writeFile(file, tsr);
      const text = (await run("openssl", ["ts", "-reply", "-in", file, "-text"])).stdout;
      expect(text).toMatch(/Status: Granted/);
      const verified = await run("openssl", [
        "ts",
        "-verify",
        "-data",
        join(ossl.dir, "checkpoint.txt"),
        "-in",
        file,
        "-CAfile",
        bundlePath,
      ]);
      expect(verified.stdout).toMatch(/Verification: OK/);
    }
    expect(checkpointTsr([])).toBeUndefined();
  });
});

describe("attacker-controlled TSAs", () => {
  it("a replayed genuine reply: another nonce is invalid (nonce), one over another text is invalid (imprint); never retried", async () => {
    const sameText = await post(dev.url + "/", buildTimestampRequest(sha256(text)).der);
    const otherText = await post(dev.url + "/", buildTimestampRequest(sha256(text + "x")).der);
    const [replayNonce, replayImprint] = [await serveTsa(() => sameText), await serveTsa(() => otherText)];
    servers.push(replayNonce, replayImprint);
    const [a, b] = await requestCheckpointTimestamps(text, {
      urls: [replayNonce.url, replayImprint.url],
      trusted,
      timeoutMs: 30_000, // not the point here: generous for busy CI machines
      attempts: 3,
    });
    expect(a).toMatchObject({ kind: "invalid", code: "ERR_TSA_MISMATCH", attempts: 1 });
    expect((a as { message: string }).message).toMatch(/nonce/);
    expect(b).toMatchObject({ kind: "invalid", code: "ERR_TSA_MISMATCH", attempts: 1 });
    expect((b as { message: string }).message).toMatch(/imprint/);
    expect(replayNonce.queries.length).toBe(1);
  });

  it("a TSA with its own key (not pinned) is ERR_TSA_UNTRUSTED; garbage is ERR_TSA_MALFORMED; a PKIStatus rejection is refused", async () => {
    const rogue = await createOpensslTsa("Rogue TSA");
    const rogueHttp = await serveTsa((q) => rogue.reply(q));
    const garbage = await serveTsa(() => new Uint8Array([0x30, 0x03, 0x02, 0x01]));
    servers.push(rogueHttp, garbage);
    const outcomes = await requestCheckpointTimestamps(text, {
      urls: [rogueHttp.url, garbage.url],
      trusted,
      timeoutMs: 30_000, // not the point here: generous for busy CI machines
      attempts: 2,
    });
    expect(outcomes[0]).toMatchObject({ kind: "invalid", code: "ERR_TSA_UNTRUSTED", attempts: 1 });
    expect(outcomes[1]).toMatchObject({ kind: "invalid", code: "ERR_TSA_MALFORMED", attempts: 1 });
    // A real rejection: the dev TSA refuses a policy it does not serve (not transient: not retried).
    const [refused] = await requestCheckpointTimestamps(text, {
      urls: [dev.url + "/"],
      trusted,
      timeoutMs: 30_000, // not the point here: generous for busy CI machines
      attempts: 2,
      policy: "1.2.3.4.999",
    });
    expect(refused).toMatchObject({ kind: "refused", status: 2, failInfo: ["unacceptedPolicy"], attempts: 1 });
  });
});

describe("TSA outages end in bounded outcomes, never a throw", () => {
  it("a TSA streaming an endless reply without a length is cut off at 64 KiB (unreachable, not a memory sink)", async () => {
    let written = 0;
    const endless = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/timestamp-reply" }); // chunked: no content-length
      const chunk = Buffer.alloc(16 * 1024, 0x30);
      const pump = () => {
        while (!res.destroyed && written < 64 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        if (!res.destroyed && written < 64 * 1024 * 1024) res.once("drain", pump);
      };
      pump();
    });
    await new Promise<void>((r) => endless.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(endless.address() as AddressInfo).port}/`;
      const [o] = await requestCheckpointTimestamps(text, { urls: [url], trusted, timeoutMs: 5000, attempts: 1 });
      expect(o).toMatchObject({ kind: "unreachable" });
      expect((o as { message: string }).message).toMatch(/exceeds 65536 bytes/);
      expect(written).toBeLessThan(64 * 1024 * 1024);
    } finally {
      endless.closeAllConnections();
      await new Promise((r) => endless.close(r));
    }
  });

  it("a killed TSA is unreachable at once (attempts bounded); the other TSA still gives its token", async () => {
    const doomed = await startDevTsa(kms.endpoint);
    process.kill(doomed.pid, "SIGKILL");
    await doomed.stop();
    const outcomes = await requestCheckpointTimestamps(text, {
      urls: [doomed.url + "/", osslHttp.url],
      trusted,
      timeoutMs: 3000,
      attempts: 2,
      backoffMs: 50,
    });
    expect(outcomes[0]).toMatchObject({ kind: "unreachable", attempts: 2 });
    expect((outcomes[0] as { message: string }).message).toMatch(/ECONNREFUSED/);
    expect(outcomes[1]!.kind).toBe("token");
  });

  it("a SIGSTOPped TSA times out per attempt: attempts × deadline + back-off bounds it", async () => {
    const frozen = await startDevTsa(kms.endpoint);
    process.kill(frozen.pid, "SIGSTOP");
    try {
      const outcomes = await requestCheckpointTimestamps(text, {
        urls: [frozen.url + "/", osslHttp.url],
        trusted,
        // Long enough for the live openssl TSA to answer on a busy machine, short enough to bound.
        timeoutMs: 2000,
        attempts: 2,
        backoffMs: 100,
      });
      expect(outcomes[0]).toMatchObject({ kind: "timeout", attempts: 2 });
      expect(outcomes[0]!.ms).toBeGreaterThanOrEqual(2 * 2000);
      expect(outcomes[0]!.ms).toBeLessThan(2 * 2000 + 100 + 1500);
      expect(outcomes[1]!.kind).toBe("token");
    } finally {
      process.kill(frozen.pid, "SIGCONT");
      await frozen.stop();
    }
  });
});

describe("the background timestamper", () => {
  it("stores the tokens of a round; firstCovering finds the smallest stamped checkpoint covering an entry", async () => {
    const config = loadTimestampingConfig({
      KAKUNIN_TSA_URLS: `${dev.url}/,${osslHttp.url}`,
      KAKUNIN_TSA_TRUST_FILE: bundlePath,
      // Generous: a busy 2-core CI machine once took longer than the 5 s default for one round.
      KAKUNIN_TSA_TIMEOUT_MS: "30000",
      KAKUNIN_TSA_ATTEMPTS: "3",
    });
    const store = new MemoryTimestampStore();
    const ts = new CheckpointTimestamper({ config, store });
    const small = (await checkpointCovering(5, 8)).checkpointText;
    const rounds = await Promise.all([ts.stamp(text), ts.stamp(small), ts.stamp(text)]);
    expect(rounds[0]).toBe(rounds[2]); // one round per text at a time
    const why = JSON.stringify(rounds.map((r) => r?.outcomes.map((o) => ({ ...o, token: undefined }))));
    expect(
      rounds.map((r) => r?.stored),
      why,
    ).toEqual([2, 2, 2]);
    expect((await store.tokensFor(text)).map((t) => t.tsaUrl)).toEqual([`${dev.url}/`, osslHttp.url]);
    expect((await store.firstCovering("kakunin.test/log/issuer-1", 5))?.size).toBe(8);
    expect((await store.firstCovering("kakunin.test/log/issuer-1", 9))?.size).toBe(11);
    expect(await store.firstCovering("kakunin.test/log/issuer-1", 11)).toBeUndefined();
    await ts.close();
    expect(await ts.stamp(text)).toBeUndefined(); // closed
  });

  it("while every TSA is down a round stores nothing; the newest checkpoint is asked again and stamped once one is back", async () => {
    let down = true;
    const flaky = await serveTsa((q) => {
      if (down) throw new Error("maintenance");
      return ossl.reply(q);
    });
    servers.push(flaky);
    const store = new MemoryTimestampStore();
    const rounds: number[] = [];
    const ts = new CheckpointTimestamper({
      config: { urls: [flaky.url], timeoutMs: 2000, attempts: 1, trust: { trusted, crls: [] } },
      store,
      retryMs: 200,
      onRound: (r) => rounds.push(r.stored),
    });
    const first = await ts.stamp(text);
    expect(first).toMatchObject({ stored: 0, outcomes: [{ kind: "unreachable" }] });
    expect((first!.outcomes[0] as { message: string }).message).toMatch(/HTTP 500/);
    down = false;
    for (let i = 0; i < 50 && (await store.tokensFor(text)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await store.tokensFor(text)).length).toBe(1);
    expect(rounds.at(-1)).toBe(1);
    await ts.close();
  });

  it("close() cancels a round stuck on a frozen TSA instead of waiting for its deadline", async () => {
    const frozen = await startDevTsa(kms.endpoint);
    process.kill(frozen.pid, "SIGSTOP");
    try {
      const ts = new CheckpointTimestamper({
        config: { urls: [frozen.url + "/"], timeoutMs: 60_000, attempts: 3, trust: { trusted, crls: [] } },
        store: new MemoryTimestampStore(),
      });
      ts.schedule(text);
      const round = ts.stamp(text);
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      await ts.close();
      expect(await round).toMatchObject({ stored: 0, outcomes: [{ kind: "timeout", attempts: 1 }] });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      process.kill(frozen.pid, "SIGCONT");
      await frozen.stop();
    }
  });
});
