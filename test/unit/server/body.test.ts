/**
 * Request bodies (server/http/body.ts), through a real Hono app with the server's own error
 * mapper: the size limit, UTF-8 and I-JSON checks, and what `c.req.json()` then returns. Reading
 * straight from Node's IncomingMessage (the production path, with the shared budget and
 * `Connection: close`) needs a socket: test/integration/api/hostile-*.test.ts.
 */
import { Hono } from "hono";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AppDeps } from "../../../server/deps.js";
import { BodyBudget, readRequestBody } from "../../../server/http/body.js";
import type { AppEnv } from "../../../server/http/env.js";
import { onError } from "../../../server/http/problem.js";

const LIMIT = 256;

/** POST /echo: reads the body as the server does, then echoes what a route would see. */
function app() {
  const a = new Hono<AppEnv>();
  a.use("*", async (c, next) => {
    c.set("deps", { config: { bodyLimit: LIMIT, bodyBudget: 1 << 20 } } as unknown as AppDeps);
    await next();
  });
  a.all("/echo", async (c) => {
    await readRequestBody(c);
    const type = c.req.header("content-type") ?? "";
    if (/json/.test(type) && c.req.method !== "GET") {
      const text = await c.req.text();
      return c.json({ json: text.length > 0 ? await c.req.json() : null, text });
    }
    return c.json({ text: await c.req.text() });
  });
  a.onError(onError);
  return a;
}

async function post(body: string | Uint8Array<ArrayBuffer>, type = "application/json") {
  const res = await app().request("/echo", { method: "POST", headers: { "content-type": type }, body });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    body: (await res.json()) as Record<string, unknown>,
  };
}

describe("readRequestBody", () => {
  it("parses an I-JSON body once; the route reads the same value and text", async () => {
    const r = await post('{"payload":{"amount":"100.00","n":1e2}}');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      json: { payload: { amount: "100.00", n: 100 } },
      text: '{"payload":{"amount":"100.00","n":1e2}}',
    });
  });

  it("treats +json media types as JSON and others as opaque text", async () => {
    expect((await post('{"a":1,"a":2}', "application/merge-patch+json")).body.code).toBe("ERR_JSON_DUPLICATE_MEMBER");
    expect((await post('{"a":1,"a":2}', "text/plain")).body).toEqual({ text: '{"a":1,"a":2}' });
  });

  it("refuses a body over the limit with 413 ERR_PAYLOAD_TOO_LARGE", async () => {
    const r = await post(`"${"x".repeat(LIMIT - 1)}"`);
    expect([r.status, r.type, r.body.code]).toEqual([413, "application/problem+json", "ERR_PAYLOAD_TOO_LARGE"]);
    expect((await post(`"${"x".repeat(LIMIT - 2)}"`)).status).toBe(200);
  });

  it("refuses invalid UTF-8 instead of replacing it (400 ERR_MALFORMED_JSON)", async () => {
    const r = await post(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])); // {"a":"\xff"}
    expect([r.status, r.body.code]).toEqual([400, "ERR_MALFORMED_JSON"]);
    const overlong = await post(new Uint8Array([0x22, 0xc0, 0xaf, 0x22])); // "/" as an overlong sequence
    expect([overlong.status, overlong.body.code]).toEqual([400, "ERR_MALFORMED_JSON"]);
  });

  it("refuses malformed JSON with 400, and I-JSON violations with 422 naming the member", async () => {
    expect([(await post("{")).status, (await post("{")).body.code]).toEqual([400, "ERR_MALFORMED_JSON"]);
    const big = await post('{"payload":{"amount":12345678901234567890}}');
    expect([big.status, big.body.code, big.body.field]).toEqual([422, "ERR_JSON_NUMBER_NOT_EXACT", "payload.amount"]);
    const lone = await post('{"name":"\\ud800"}');
    expect([lone.status, lone.body.code, lone.body.field]).toEqual([422, "ERR_JSON_INVALID_STRING", "name"]);
  });

  it("an empty JSON body is no body: nothing is parsed (the route's validator decides)", async () => {
    expect(await post("")).toEqual({ status: 200, type: "application/json", body: { json: null, text: "" } });
  });

  it("GET bodies are never read", async () => {
    const res = await app().request("/echo", { method: "GET", headers: { "content-type": "text/plain" } });
    expect([res.status, await res.json()]).toEqual([200, { text: "" }]);
  });
});

describe("BodyBudget", () => {
  it("grants bytes only while the total stays within the limit, and takes nothing when it refuses", () => {
    const b = new BodyBudget(100);
    expect([b.take(60), b.take(41), b.inUse]).toEqual([true, false, 60]);
    expect([b.take(40), b.inUse, b.take(1)]).toEqual([true, 100, false]);
    b.give(60);
    expect([b.inUse, b.take(60)]).toEqual([40, true]);
  });

  it("never exceeds its limit under any sequence of takes and gives", () => {
    const op = fc.oneof(fc.record({ take: fc.integer({ min: 0, max: 300 }) }), fc.constant({ give: true as const }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.array(op, { maxLength: 60 }), (limit, ops) => {
        const b = new BodyBudget(limit);
        const held: number[] = [];
        for (const o of ops) {
          if ("take" in o) {
            const expected = b.inUse + o.take <= limit;
            expect(b.take(o.take)).toBe(expected);
            if (expected) held.push(o.take);
          } else if (held.length > 0) b.give(held.pop()!);
          expect(b.inUse).toBe(held.reduce((s, n) => s + n, 0));
          expect(b.inUse).toBeLessThanOrEqual(limit);
        }
      }),
    );
  });
});
