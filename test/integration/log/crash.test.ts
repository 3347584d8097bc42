/**
 * kill -9 of a real server process (server/main.ts) during a burst of appends: after a restart on
 * the same SQLite file, every acknowledged (201) entry is in the chain unchanged, the chain links,
 * every signature verifies (openssl and the verifier), and appending continues from the head.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyExport } from "@kakunin/verifier";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { chainProblems, httpCaller, opensslVerifyExport, parseExport, setupIssuer } from "./fixture.js";

let kms: LocalKms;
let server: RunningServer | undefined;

beforeAll(async () => {
  kms = await startLocalKms({ latencyMs: 5 });
});
afterAll(async () => {
  await server?.stop();
  await kms?.stop();
});

describe("crash during a burst", () => {
  it("loses no acknowledged entry and leaves a chain that verifies", async () => {
    server = await startServer({ kmsEndpoint: kms.endpoint, env: { LOG_LEVEL: "warn" } });
    const { dataDir, operatorToken } = server;
    let call = httpCaller(server.url);
    const issuer = await setupIssuer(call, operatorToken, 4);

    const acked: any[] = [];
    let killed = false;
    const client = async (c: number) => {
      for (let k = 0; !killed; k++) {
        const a = issuer.agents[(c + k) % 4]!;
        try {
          const r = await call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { c, k } } });
          if (r.status === 201) acked.push(r.json.entry);
        } catch {
          return; // connection reset by the kill
        }
      }
    };
    const clients = Array.from({ length: 48 }, (_, c) => client(c));
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 10));
    await server.kill(); // SIGKILL mid-burst
    killed = true;
    await Promise.all(clients);
    const ackedAtKill = acked.length;
    expect(ackedAtKill).toBeGreaterThanOrEqual(200);

    server = await startServer({ kmsEndpoint: kms.endpoint, dataDir, operatorToken, env: { LOG_LEVEL: "warn" } });
    call = httpCaller(server.url);
    const res = await call("GET", "/v1/log/export", { token: issuer.issuerToken });
    expect(res.status).toBe(200);
    const exp = parseExport(res.text);
    const bySeq = new Map(exp.entries.map((e: any) => [e.seq, e]));
    for (const e of acked) expect(bySeq.get(e.seq)).toEqual(e);
    expect(chainProblems(exp.entries)).toEqual([]);
    expect(opensslVerifyExport(exp)).toEqual([]);
    const report = await verifyExport(res.text.split("\n").filter(Boolean), { trust: { caCertificate: exp.header.caCertificate } });
    expect(report.errors).toEqual([]);
    expect(report.verdict).toBe("PASSED");

    // The restarted process continues the same chain.
    const a = issuer.agents[0]!;
    const next = await call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: "after restart" } });
    expect(next.status).toBe(201);
    expect(next.json.entry.seq).toBe(exp.entries.length);
    expect(next.json.entry.prevHash).toBe(exp.entries.at(-1).hash);
  });
});
