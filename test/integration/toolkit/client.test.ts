/**
 * @kakunin/client against a real server process: its committed types are what openapi-typescript
 * makes of the document the server serves, problems arrive as KakuninApiError with the server's
 * code, and 503s from a server whose (real, local) KMS is down are retried as Retry-After asks, a bounded
 * number of times. The retry policy's edge cases run against a scripted HTTP peer.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKakuninClient, KakuninApiError, retryingFetch } from "@kakunin/client";
import { GENERATED_TYPES, renderTypes } from "../../../client/scripts/types.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";

let kms: LocalKms;
let server: RunningServer;

beforeAll(async () => {
  kms = await startLocalKms();
  server = await startServer({ kmsEndpoint: kms.endpoint });
});

afterAll(async () => {
  await server?.stop();
  await kms?.stop();
});

describe("@kakunin/client", () => {
  it("has committed types identical to those generated from the served document (npm run generate -w client)", async () => {
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as object;
    expect(await readFile(GENERATED_TYPES, "utf8")).toBe(await renderTypes(doc));
  });

  it("drives the lifecycle with typed results", async () => {
    const op = createKakuninClient({ baseUrl: server.url, token: server.operatorToken });
    const issuer = await op.createIssuer("Client Test GmbH");
    const iss = createKakuninClient({ baseUrl: server.url, token: issuer.token });
    const agent = await iss.createAgent("client-bot");
    const receipt = await iss.sign(agent.id, { payload: { hello: "world" } });
    expect(receipt.entry).toMatchObject({ seq: 1, agent: agent.id, type: "agent.operation" });
    expect((await iss.logEntries({ from: 0 })).size).toBe(2);
    // Numbers go out as the decimal strings the hardened parameters declare: a range of one entry.
    expect((await iss.logEntries({ from: 1, to: 1 })).entries.map((e) => e.seq)).toEqual([1]);
    expect(await new Response(await iss.exportLog({ from: 1, to: 1 })).text()).toContain(`"seq":1,`);
    expect((await iss.getAgent(agent.id)).activeCertificate).toBe(agent.certificate.serial);
    expect(await iss.caPem()).toMatch(/^-----BEGIN CERTIFICATE-----/);
  });

  it("raises problems as KakuninApiError carrying the server's code, status and field", async () => {
    const op = createKakuninClient({ baseUrl: server.url, token: server.operatorToken });
    const iss = createKakuninClient({ baseUrl: server.url, token: (await op.createIssuer("Errors AG")).token });
    const notFound = await iss.getAgent("agt_00000000000000000000000000000000").catch((e) => e);
    expect(notFound).toBeInstanceOf(KakuninApiError);
    expect(notFound).toMatchObject({ code: "ERR_AGENT_NOT_FOUND", status: 404 });
    const invalid = await iss.createAgent("").catch((e) => e);
    expect(invalid).toMatchObject({ code: "ERR_INVALID_NAME", status: 422, field: "name" });
    const forbidden = await op.listAgents().catch((e) => e);
    expect(forbidden).toMatchObject({ code: "ERR_FORBIDDEN", status: 403 });
    const streamed = await op.exportLog().catch((e) => e); // the streamed route reports problems the same way
    expect(streamed).toMatchObject({ code: "ERR_FORBIDDEN", status: 403 });
    const down = await createKakuninClient({ baseUrl: "http://127.0.0.1:9", retry: { retries: 0 } })
      .health()
      .catch((e) => e);
    expect(down).toMatchObject({ code: "ERR_NETWORK", status: 0 });
  });

  it("retries a real 503 (the KMS is down) as Retry-After asks, then raises it", async () => {
    const ownKms = await startLocalKms();
    const own = await startServer({ kmsEndpoint: ownKms.endpoint }).catch(async (e) => {
      await ownKms.stop();
      throw e;
    });
    try {
      const waits: number[] = [];
      const op = createKakuninClient({ baseUrl: own.url, token: own.operatorToken });
      const issuer = await op.createIssuer("Unavailable SA");
      await ownKms.stop(); // registration now needs a KMS that does not answer
      const iss = createKakuninClient({
        baseUrl: own.url,
        token: issuer.token,
        retry: {
          retries: 2,
          sleep: async (ms) => {
            waits.push(ms);
          },
        },
      });
      const err = await iss.createAgent("never").catch((e) => e);
      expect(err).toBeInstanceOf(KakuninApiError);
      expect(err).toMatchObject({ code: "ERR_KMS_UNAVAILABLE", status: 503 });
      expect(err.retryAfter).toBeGreaterThanOrEqual(1);
      expect(waits).toEqual([err.retryAfter * 1000, err.retryAfter * 1000]);
      expect(await iss.listAgents()).toEqual([]); // nothing half-registered
    } finally {
      await own.stop();
      await ownKms.stop();
    }
  });
});

describe("retry policy (scripted HTTP peer)", () => {
  let peer: Server;
  let url: string;
  let script: { status: number; headers?: Record<string, string> }[] = [];
  const bodies: string[] = [];

  beforeAll(async () => {
    peer = createServer((req, res) => {
      let body = "";
      req
        .on("data", (c) => {
          body += c;
        })
        .on("end", () => {
          bodies.push(body);
          const step = script.shift() ?? { status: 200 };
          res.writeHead(step.status, { "content-type": "application/json", ...step.headers });
          res.end(
            step.status === 200
              ? '{"status":"ok","time":"now"}'
              : JSON.stringify({
                  type: "about:blank",
                  title: "x",
                  status: step.status,
                  detail: "later",
                  code: "ERR_OVERLOADED",
                }),
          );
        });
    });
    await new Promise<void>((r) => peer.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => peer.close(() => r())));

  it("waits delta-seconds and HTTP-date Retry-After, doubles without one (capped), and re-sends the body", async () => {
    const waits: number[] = [];
    script = [
      { status: 429, headers: { "retry-after": "2" } },
      { status: 503, headers: { "retry-after": new Date(Date.now() + 4_000).toUTCString() } },
      { status: 503 },
      { status: 503 },
    ];
    bodies.length = 0;
    const f = retryingFetch({
      retries: 4,
      maxDelayMs: 5_000,
      baseDelayMs: 100,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const res = await f(
      new Request(`${url}/x`, { method: "POST", body: '{"a":1}', headers: { "content-type": "application/json" } }),
    );
    expect(res.status).toBe(200);
    expect(waits[0]).toBe(2000);
    expect(waits[1]).toBeGreaterThan(2000); // the HTTP-date, ≈ 4 s away (1 s precision)
    expect(waits[1]).toBeLessThanOrEqual(4000);
    expect(waits.slice(2)).toEqual([400, 800]); // no header → 100·2², 100·2³
    expect(bodies).toEqual(Array(5).fill('{"a":1}'));
  });

  it("does not cut a Retry-After beyond maxDelayMs short: returns that answer at once, its retryAfter in the error", async () => {
    const waits: number[] = [];
    script = [{ status: 429, headers: { "retry-after": "3600" } }, { status: 200 }];
    const client = createKakuninClient({
      baseUrl: url,
      retry: { maxDelayMs: 5_000, sleep: async (ms) => void waits.push(ms) },
    });
    const err = await client.health().catch((e) => e);
    expect(err).toMatchObject({ status: 429, retryAfter: 3600 });
    expect(waits).toEqual([]);
    expect(script.length).toBe(1); // asked once
  });

  it("gives up after the bound and returns the last answer as a typed error", async () => {
    script = Array(5).fill({ status: 503, headers: { "retry-after": "1" } });
    const client = createKakuninClient({ baseUrl: url, retry: { retries: 1, sleep: async () => undefined } });
    const err = await client.health().catch((e) => e);
    expect(err).toMatchObject({ code: "ERR_OVERLOADED", status: 503, retryAfter: 1 });
    expect(script.length).toBe(3); // two attempts used
  });

  it("does not retry other errors", async () => {
    script = [{ status: 500 }, { status: 200 }];
    const err = await createKakuninClient({ baseUrl: url, retry: { sleep: async () => undefined } })
      .health()
      .catch((e) => e);
    expect(err).toMatchObject({ status: 500 });
    expect(script.length).toBe(1);
  });
});
