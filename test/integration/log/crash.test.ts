/**
 * kill -9 of a real server process (server/main.ts) during a burst of appends: after a restart on
 * the same database (the SQLite file, or the same PostgreSQL database), every acknowledged (201)
 * entry is in the chain unchanged, the chain links, every signature verifies (openssl and the
 * verifier), appending continues from the head, and the Merkle tree (log v2) equals the tree over
 * the chain: the checkpoint after the restart has the primitives' root over every entry. One local KMS for the file; SQLite and, when
 * it answers, PostgreSQL (named [postgres]; skipped loudly otherwise).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyExport } from "@kakunin/verifier";
import {
  entryLeafHash,
  parseCheckpoint,
  parseNote,
  parseTlogProof,
  rootOfLeafHashes,
} from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { databaseKinds } from "../../helpers/postgres.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { chainProblems, httpCaller, opensslVerifyExport, parseExport, setupIssuer, testDatabase } from "./fixture.js";

let kms: LocalKms;

beforeAll(async () => {
  kms = await startLocalKms({ latencyMs: 5 });
});
afterAll(async () => {
  await kms?.stop();
});

const KINDS = await databaseKinds("log/crash");

for (const kind of KINDS)
  describe(`[${kind}]`, () => {
    let server: RunningServer | undefined;
    let database: Awaited<ReturnType<typeof testDatabase>> | undefined;

    beforeAll(async () => {
      database = await testDatabase(kind);
    });
    afterAll(async () => {
      await server?.stop();
      await database?.drop();
    });

    describe("crash during a burst", () => {
      it("loses no acknowledged entry and leaves a chain that verifies", async () => {
        server = await startServer({ kmsEndpoint: kms.endpoint, env: { LOG_LEVEL: "warn", ...database!.env } });
        const { dataDir, operatorToken } = server;
        let call = httpCaller(server.url);
        const issuer = await setupIssuer(call, operatorToken, 4);

        const acked: any[] = [];
        let killed = false;
        const client = async (c: number) => {
          for (let k = 0; !killed; k++) {
            const a = issuer.agents[(c + k) % 4]!;
            try {
              const r = await call("POST", `/v1/agents/${a.id}/operations`, {
                token: a.token,
                body: { payload: { c, k } },
              });
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

        server = await startServer({
          kmsEndpoint: kms.endpoint,
          dataDir,
          operatorToken,
          env: { LOG_LEVEL: "warn", ...database!.env },
        });
        call = httpCaller(server.url);
        const res = await call("GET", "/v1/log/export", { token: issuer.issuerToken });
        expect(res.status).toBe(200);
        const exp = parseExport(res.text);
        const bySeq = new Map(exp.entries.map((e: any) => [e.seq, e]));
        for (const e of acked) expect(bySeq.get(e.seq)).toEqual(e);
        expect(chainProblems(exp.entries)).toEqual([]);
        expect(opensslVerifyExport(exp)).toEqual([]);
        const report = await verifyExport(res.text.split("\n").filter(Boolean), {
          trust: { caCertificate: exp.header.caCertificate },
        });
        expect(report.errors).toEqual([]);
        expect(report.verdict).toBe("PASSED");

        // The restarted process continues the same chain.
        const a = issuer.agents[0]!;
        const next = await call("POST", `/v1/agents/${a.id}/operations`, {
          token: a.token,
          body: { payload: "after restart" },
        });
        expect(next.status).toBe(201);
        expect(next.json.entry.seq).toBe(exp.entries.length);
        expect(next.json.entry.prevHash).toBe(exp.entries.at(-1).hash);

        // Tree and chain never disagree after kill -9: the covering checkpoint's root is the
        // primitives' root over every entry (the tree was extended in each batch's own commit).
        const receipt = await call("GET", `/v1/log/entries/${next.json.entry.seq}/receipt?wait=5`, {
          token: issuer.issuerToken,
        });
        expect(receipt.status).toBe(200);
        const cp = parseCheckpoint(parseNote(parseTlogProof(receipt.json.proof).checkpoint).text);
        const all = (await call("GET", "/v1/log/export", { token: issuer.issuerToken })).text;
        const entries = parseExport(all).entries.slice(0, cp.size);
        expect(entries.length).toBe(cp.size);
        const root = await rootOfLeafHashes(await Promise.all(entries.map((e: any) => entryLeafHash(e))));
        expect(Buffer.from(root).equals(Buffer.from(cp.root))).toBe(true);
      });
    });
  });
