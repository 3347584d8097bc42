/**
 * Hostile input through real HTTP against a real server process (server/main.ts) and a real local
 * KMS (issue 19, items 3, 8, 9, 11, 12): bodies are I-JSON and signed exactly as sent or refused,
 * one name rule, decimal-only path/query integers, problem+json on Node's own 431/408, private files.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, mkdtemp, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import canonicalize from "canonicalize";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { parseRawResponse, rawExchange } from "../../helpers/raw-http.js";
import { MAX_BODY_DEPTH } from "../../../server/http/i-json.js";

const VERIFY_BIN = fileURLToPath(new URL("../../../verifier/bin/kakunin-verify.js", import.meta.url));

let kms: LocalKms;
let server: RunningServer;
let issuerToken = "";
let agentId = "";

async function call(
  method: string,
  path: string,
  token: string | undefined,
  body?: string,
): Promise<{ status: number; json: any; type: string | null }> {
  const res = await fetch(server.url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, type: res.headers.get("content-type") };
}
const logSize = async () => (await call("GET", "/v1/log/entries?limit=1", issuerToken)).json.size as number;

beforeAll(async () => {
  kms = await startLocalKms();
  server = await startServer({
    kmsEndpoint: kms.endpoint,
    env: { LOG_LEVEL: "warn", KAKUNIN_REQUEST_TIMEOUT_MS: "1500", KAKUNIN_HEADERS_TIMEOUT_MS: "1500" },
  });
  const iss = await call("POST", "/v1/issuers", server.operatorToken, JSON.stringify({ name: "Hostile Input Ltd" }));
  issuerToken = iss.json.token;
  const agent = await call("POST", "/v1/agents", issuerToken, JSON.stringify({ name: "bot" }));
  agentId = agent.json.id;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await kms?.stop();
});

describe("bodies are I-JSON (RFC 7493), signed exactly as sent or refused", () => {
  it("the issue's payload (a 20-digit number and a duplicate member) is refused, naming the member, and nothing is appended", async () => {
    const before = await logSize();
    const r = await call(
      "POST",
      `/v1/agents/${agentId}/operations`,
      issuerToken,
      '{"payload":{"amount":12345678901234567890,"d":"1","d":"2"}}',
    );
    expect([r.status, r.json.code, r.json.field, r.type]).toEqual([
      422,
      "ERR_JSON_NUMBER_NOT_EXACT",
      "payload.amount",
      "application/problem+json",
    ]);
    expect(r.json.detail).toContain("12345678901234567000");
    const dup = await call(
      "POST",
      `/v1/agents/${agentId}/operations`,
      issuerToken,
      '{"payload":{"amount":1,"d":"1","d":"2"}}',
    );
    expect([dup.status, dup.json.code, dup.json.field]).toEqual([422, "ERR_JSON_DUPLICATE_MEMBER", "payload.d"]);
    const deep = await call(
      "POST",
      `/v1/agents/${agentId}/operations`,
      issuerToken,
      '{"payload":{"items":[{"a":1},{"a":1,"\\u0061":2}]}}',
    );
    expect([deep.status, deep.json.code, deep.json.field]).toEqual([
      422,
      "ERR_JSON_DUPLICATE_MEMBER",
      "payload.items.1.a",
    ]);
    const top = await call("POST", `/v1/agents/${agentId}/operations`, issuerToken, '{"payload":1,"payload":{"x":1}}');
    expect([top.status, top.json.code, top.json.field]).toEqual([422, "ERR_JSON_DUPLICATE_MEMBER", "payload"]);
    const lone = await call("POST", `/v1/agents/${agentId}/operations`, issuerToken, '{"payload":{"s":"\\udead"}}');
    expect([lone.status, lone.json.code, lone.json.field]).toEqual([422, "ERR_JSON_INVALID_STRING", "payload.s"]);
    expect(await logSize()).toBe(before);
  });

  it("nesting is capped at what the verifier accepts: the deepest accepted payload still verifies once exported", async () => {
    const nested = (d: number) => `${"[".repeat(d)}${"]".repeat(d)}`;
    const before = await logSize();
    const tooDeep = await call(
      "POST",
      `/v1/agents/${agentId}/operations`,
      issuerToken,
      `{"payload":${nested(MAX_BODY_DEPTH)}}`,
    );
    expect([tooDeep.status, tooDeep.json.code]).toEqual([422, "ERR_JSON_TOO_DEEP"]);
    expect(await logSize()).toBe(before);
    const deepest = await call(
      "POST",
      `/v1/agents/${agentId}/operations`,
      issuerToken,
      `{"payload":${nested(MAX_BODY_DEPTH - 1)}}`,
    );
    expect(deepest.status).toBe(201);
    const dir = await mkdtemp(join(tmpdir(), "kakunin-deep-"));
    const file = join(dir, "export.ndjson");
    const exported = await (
      await fetch(`${server.url}/v1/log/export?payloads=true`, { headers: { authorization: `Bearer ${issuerToken}` } })
    ).text();
    expect(exported).toContain(`"json":${nested(MAX_BODY_DEPTH - 1)}}`); // the payload line nests MAX_BODY_DEPTH deep
    await writeFile(file, exported);
    await writeFile(join(dir, "ca.pem"), await (await fetch(`${server.url}/v1/public/ca.pem`)).text());
    const v = spawnSync(process.execPath, [VERIFY_BIN, "log", file, "--ca", join(dir, "ca.pem"), "--json"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(v.status, v.stdout.slice(0, 2000) + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout).verdict).toBe("PASSED");
  });

  it("invalid UTF-8 is refused rather than signed as U+FFFD", async () => {
    const res = await fetch(`${server.url}/v1/agents/${agentId}/operations`, {
      method: "POST",
      headers: { authorization: `Bearer ${issuerToken}`, "content-type": "application/json" },
      body: Buffer.concat([Buffer.from('{"payload":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
    });
    expect([res.status, (await res.json()).code]).toEqual([400, "ERR_MALFORMED_JSON"]);
  });

  it("an accepted payload's signed hash is that of the RFC 8785 form of exactly what was sent", async () => {
    const sent = '{"payload":{"z":1.0,"a":[1e2,-0,0.1,9007199254740992],"é":"\\u00e9😀"}}';
    const r = await call("POST", `/v1/agents/${agentId}/operations`, issuerToken, sent);
    expect(r.status).toBe(201);
    const jcs = canonicalize(JSON.parse(sent).payload)!;
    expect(jcs).toBe('{"a":[100,0,0.1,9007199254740992],"z":1,"é":"é😀"}');
    expect(r.json.entry.payloadHash).toBe(createHash("sha256").update(jcs, "utf8").digest("hex"));
  });
});

describe("one name rule at the edge", () => {
  const bad = [
    "a\u0085b",
    "a\u009bb",
    "\u202eevil",
    "a\u200db",
    "\ufeffbom",
    "a\uffffb",
    "a\ue000b",
    "x".repeat(65),
    " padded",
    "A\u030a",
  ];
  it("issuer and agent names outside the rule are 422 ERR_INVALID_NAME with field name, and nothing is stored", async () => {
    for (const name of bad) {
      // Noncharacters (U+FFFF) are already refused by the I-JSON check of the body, also 422 on the field.
      const code = /\p{Noncharacter_Code_Point}/u.test(name) ? "ERR_JSON_INVALID_STRING" : "ERR_INVALID_NAME";
      const iss = await call("POST", "/v1/issuers", server.operatorToken, JSON.stringify({ name }));
      expect([JSON.stringify(name), iss.status, iss.json.code, iss.json.field]).toEqual([
        JSON.stringify(name),
        422,
        code,
        "name",
      ]);
      const agt = await call("POST", "/v1/agents", issuerToken, JSON.stringify({ name }));
      expect([JSON.stringify(name), agt.status, agt.json.code, agt.json.field]).toEqual([
        JSON.stringify(name),
        422,
        code,
        "name",
      ]);
    }
    const agents = await call("GET", "/v1/agents", issuerToken);
    expect(agents.json.agents.map((a: { name: string }) => a.name)).toEqual(["bot"]);
  });

  it("a lone surrogate in an agent or issuer name is a 422, never a 500", async () => {
    for (const [path, token] of [
      ["/v1/agents", issuerToken],
      ["/v1/issuers", server.operatorToken],
    ] as const) {
      const r = await call("POST", path, token, '{"name":"bot\\ud800"}');
      expect([path, r.status, r.json.field]).toEqual([path, 422, "name"]);
    }
  });

  it("a 64-character issuer name is accepted and its agents can be registered (the same limit everywhere)", async () => {
    const iss = await call("POST", "/v1/issuers", server.operatorToken, JSON.stringify({ name: "Ö".repeat(64) }));
    expect(iss.status).toBe(201);
    const agent = await call("POST", "/v1/agents", iss.json.token, JSON.stringify({ name: "ü".repeat(64) }));
    expect(agent.status).toBe(201);
  });
});

describe("path and query integers are decimal digits only", () => {
  it("hex, exponent, space, sign and empty values are 400 and erase nothing", async () => {
    for (let i = 0; i < 11; i++)
      expect(
        (await call("POST", `/v1/agents/${agentId}/operations`, issuerToken, JSON.stringify({ payload: { i } })))
          .status,
      ).toBe(201);
    const payloadsBefore = (
      await (
        await fetch(`${server.url}/v1/log/export?payloads=true`, {
          headers: { authorization: `Bearer ${issuerToken}` },
        })
      ).text()
    )
      .split("\n")
      .filter((l) => l.includes('"payload"')).length;
    for (const seq of ["0x1", "1e1", "%20", "%200", "+1", "-1", "1.0", "", "9007199254740992", "99999999999999999"]) {
      const r = await call("DELETE", `/v1/log/entries/${seq}/payload`, issuerToken);
      expect([seq, r.status]).toEqual([seq, seq === "" ? 404 : 400]);
      if (seq !== "") expect(r.json.code).toBe("ERR_VALIDATION");
    }
    for (const q of ["from=0x10", "from=%2B1", "from=%201", "from=", "to=1e1", "limit=0x5", "limit=-1", "from=1.5"]) {
      const r = await call("GET", `/v1/log/entries?${q}`, issuerToken);
      expect([q, r.status, r.json.code]).toEqual([q, 400, "ERR_VALIDATION"]);
      const e = await call("GET", `/v1/log/export?${q.replace("limit", "from")}`, issuerToken);
      expect([q, e.status]).toEqual([q, 400]);
    }
    const payloadsAfter = (
      await (
        await fetch(`${server.url}/v1/log/export?payloads=true`, {
          headers: { authorization: `Bearer ${issuerToken}` },
        })
      ).text()
    )
      .split("\n")
      .filter((l) => l.includes('"payload"')).length;
    expect(payloadsAfter).toBe(payloadsBefore);
    const ok = await call("GET", "/v1/log/entries?from=1&to=10&limit=5", issuerToken);
    expect([ok.status, ok.json.entries.map((e: { seq: number }) => e.seq)]).toEqual([200, [1, 2, 3, 4, 5]]);
    expect((await call("DELETE", "/v1/log/entries/10/payload", issuerToken)).status).toBe(204);
  });
});

describe("Node's own errors are problem+json", () => {
  it("431: headers beyond Node's limit", async () => {
    const x = rawExchange(server.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    const r = parseRawResponse((await x.closed).text);
    expect([r.status, r.headers["content-type"], r.json?.code, r.json?.status]).toEqual([
      431,
      "application/problem+json",
      "ERR_HEADERS_TOO_LARGE",
      431,
    ]);
  });

  it("408: an authenticated body trickled a byte at a time is cut at the request deadline", async () => {
    const x = rawExchange(
      server.url,
      `POST /v1/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${issuerToken}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
    );
    const trickle = setInterval(() => x.socket.writable && x.socket.write(" "), 200);
    const done = await x.closed;
    clearInterval(trickle);
    const r = parseRawResponse(done.text);
    expect([r.status, r.headers["content-type"], r.json?.code]).toEqual([
      408,
      "application/problem+json",
      "ERR_REQUEST_TIMEOUT",
    ]);
    expect(done.ms).toBeLessThan(10_000); // the deadline is 1.5 s; Node's default would be 300 s
  });

  it("408: headers trickled a line at a time are cut too", async () => {
    const x = rawExchange(server.url, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const trickle = setInterval(() => x.socket.writable && x.socket.write("X-A: b\r\n"), 200);
    const done = await x.closed;
    clearInterval(trickle);
    expect(parseRawResponse(done.text).json?.code).toBe("ERR_REQUEST_TIMEOUT");
  });
});

describe("file modes", () => {
  it("kakunin.db, its WAL and SHM, and the witness files are 0600 in 0700 folders", async () => {
    const mode = async (p: string) => ((await stat(p)).mode & 0o777).toString(8);
    expect(await mode(server.dataDir)).toBe("700");
    for (const f of ["kakunin.db", "kakunin.db-wal", "kakunin.db-shm"])
      expect([f, await mode(join(server.dataDir, f))]).toEqual([f, "600"]);
    const witness = join(server.dataDir, "witness");
    await expect
      .poll(async () => (await readdir(witness).catch(() => [])).length, { timeout: 15_000 })
      .toBeGreaterThan(0);
    // Folders (the fork guard's log v2 archive is witness/tree/) 0700, files 0600, all the way down.
    const walk = async (dir: string): Promise<void> => {
      expect([dir, await mode(dir)]).toEqual([dir, "700"]);
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else expect([p, await mode(p)]).toEqual([p, "600"]);
      }
    };
    await walk(witness);
  });

  it("a data folder and database left 0755 / 0644 by an older version are tightened at start", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "kakunin-modes-"));
    await chmod(dataDir, 0o755);
    await writeFile(join(dataDir, "kakunin.db"), "", { mode: 0o644 });
    await chmod(join(dataDir, "kakunin.db"), 0o644);
    const old = await startServer({ kmsEndpoint: kms.endpoint, dataDir, env: { LOG_LEVEL: "warn" } });
    try {
      expect(((await stat(dataDir)).mode & 0o777).toString(8)).toBe("700");
      for (const f of ["kakunin.db", "kakunin.db-wal", "kakunin.db-shm"])
        expect([f, ((await stat(join(dataDir, f))).mode & 0o777).toString(8)]).toEqual([f, "600"]);
    } finally {
      await old.stop();
    }
  });
});
