/**
 * The append route over real HTTP (@hono/node-server), where server/http/body.ts reads request bodies
 * straight from Node's IncomingMessage: valid bodies (with Content-Length or chunked) append;
 * malformed, oversized (declared or chunked) and empty bodies are problem+json and write nothing.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../server/app.js";
import { createLogFixture, httpCaller, OPERATOR_TOKEN, setupIssuer, type Call, type LogFixture } from "./fixture.js";

let fx: LogFixture;
let server: ReturnType<typeof serve>;
let base: string;
let call: Call;

beforeAll(async () => {
  fx = await createLogFixture({ env: { KAKUNIN_BODY_LIMIT: "4096" } });
  server = serve({ fetch: createApp(fx.services.deps).fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((r) => (server.listening ? r() : server.once("listening", () => r())));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  call = httpCaller(base);
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => server?.close(() => r()));
  await fx?.close();
});

/** POST with a chunked body (no Content-Length), written in pieces. */
function postChunked(
  path: string,
  token: string,
  pieces: string[],
): Promise<{ status: number; json: any; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      base + path,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "transfer-encoding": "chunked",
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, json, type: res.headers["content-type"] });
        });
      },
    );
    req.on("error", reject);
    for (const p of pieces) req.write(p);
    req.end();
  });
}

describe("request bodies over HTTP", () => {
  it("appends from Content-Length and chunked bodies; rejects bad ones with problem+json and writes nothing", async () => {
    const iss = await setupIssuer(call, OPERATOR_TOKEN, 1);
    const a = iss.agents[0]!;
    const url = `/v1/agents/${a.id}/operations`;
    const size = async () => (await call("GET", "/v1/log/checkpoint", { token: iss.issuerToken })).json.size as number;

    const ok = await call("POST", url, { token: a.token, body: { payload: { hello: "wörld" } } });
    expect(ok.status).toBe(201);
    const chunked = await postChunked(url, a.token, ['{"payload":', '{"n":1,"s":"', "x".repeat(1000), '"}}']);
    expect(chunked.status).toBe(201);
    expect(chunked.json.entry.seq).toBe(ok.json.entry.seq + 1);
    const n = await size();

    const bad: [string, Promise<{ status: number; json: any; type?: string | undefined | null }>, number][] = [
      ["invalid JSON", call("POST", url, { token: a.token, raw: '{"payload": ' }), 400],
      ["empty body", call("POST", url, { token: a.token, raw: "" }), 400],
      [
        "oversized (Content-Length)",
        call("POST", url, { token: a.token, raw: JSON.stringify({ payload: "x".repeat(5000) }) }),
        413,
      ],
      [
        "oversized (chunked)",
        postChunked(url, a.token, ['{"payload":"', "x".repeat(3000), "x".repeat(3000), '"}']),
        413,
      ],
      ["unknown field", call("POST", url, { token: a.token, body: { payload: 1, extra: 1 } }), 400],
    ];
    for (const [name, p, status] of bad) {
      const res = await p;
      expect(res.status, name).toBe(status);
      expect(res.json?.status, name).toBe(status);
      const type = "headers" in res ? (res as unknown as { headers: Headers }).headers.get("content-type") : res.type;
      expect(type, name).toContain("application/problem+json");
    }
    expect(await size()).toBe(n);
    // The server still serves after the rejected bodies.
    expect((await call("POST", url, { token: a.token, body: { payload: 2 } })).status).toBe(201);
  });
});
