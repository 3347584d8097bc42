/**
 * The folder copy of the published log, from a real server process (real local KMS, SQLite): the
 * tiles job (KAKUNIN_TILES_DIR) and `npm run publish-tiles -- --out DIR` write, byte for byte, what
 * the routes serve (checkpoint, every tile of its size, the verifier keys); bad arguments exit 2.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCheckpoint, parseNote, tilePath, tilesForSize } from "../../../verifier/src/formats/index.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { httpCaller, setupIssuer } from "../log/fixture.js";

const run = promisify(execFile);
let kms: LocalKms;
let server: RunningServer | undefined;
let jobDir: string;
let outDir: string;

beforeAll(async () => {
  kms = await startLocalKms();
  jobDir = await mkdtemp(join(tmpdir(), "kakunin-tiles-job-"));
  outDir = await mkdtemp(join(tmpdir(), "kakunin-tiles-out-"));
  server = await startServer({
    kmsEndpoint: kms.endpoint,
    env: { LOG_LEVEL: "warn", KAKUNIN_CHECKPOINT_INTERVAL_MS: "100", KAKUNIN_TILES_DIR: jobDir },
  });
});
afterAll(async () => {
  await server?.stop();
  await kms?.stop();
  for (const d of [jobDir, outDir]) if (d) await rm(d, { recursive: true, force: true });
});

describe("publish-tiles", () => {
  it("the job and the script write what the routes serve", async () => {
    const url = server!.url;
    const call = httpCaller(url);
    const iss = await setupIssuer(call, server!.operatorToken, 2, "Static");
    for (let k = 0; k < 270; k++) {
      const a = iss.agents[k % 2]!;
      const r = await call("POST", `/v1/agents/${a.id}/operations`, { token: a.token, body: { payload: { k } } });
      expect(r.status).toBe(201);
    }
    const prefix = `${url}/v1/logs/${iss.issuerId}`;
    // The job's folder catches up with the served checkpoint of all 272 entries.
    const until = Date.now() + 20_000;
    let served = "";
    for (;;) {
      served = await (await fetch(`${prefix}/checkpoint`)).text();
      const file = join(jobDir, "v1", "logs", iss.issuerId, "checkpoint");
      if (served.includes("\n272\n") && existsSync(file) && (await readFile(file, "utf8")) === served) break;
      if (Date.now() > until) throw new Error("the tiles job did not write the checkpoint of 272");
      await new Promise((r) => setTimeout(r, 100));
    }
    const env = { ...process.env, DATA_DIR: server!.dataDir, KAKUNIN_PUBLIC_URL: "http://kakunin.test" };
    const { stdout } = await run("npx", ["tsx", "scripts/publish-tiles.ts", "--out", outDir, "--entries"], { env });
    expect(stdout).toContain(`${iss.issuerId} size 272:`);

    const size = parseCheckpoint(parseNote(served).text).size;
    for (const dir of [jobDir, outDir]) {
      const base = join(dir, "v1", "logs", iss.issuerId);
      expect(await readFile(join(base, "checkpoint"), "utf8")).toBe(served);
      for (const t of tilesForSize(size)) {
        const p = tilePath(t);
        const file = join(base, ...p.split("/"));
        if (t.level === "entries" && dir === jobDir) {
          expect(existsSync(file), p).toBe(false); // entry bundles stay private by default
          continue;
        }
        const res = await fetch(`${prefix}/${p}`, { headers: { authorization: `Bearer ${iss.issuerToken}` } });
        expect(Buffer.from(await readFile(file)).equals(Buffer.from(await res.arrayBuffer())), `${dir} ${p}`).toBe(
          true,
        );
      }
      const keys = await (await fetch(`${url}/v1/public/log-keys`)).text();
      expect(await readFile(join(dir, "v1", "public", "log-keys"), "utf8")).toBe(keys);
    }
    const bad = await run("npx", ["tsx", "scripts/publish-tiles.ts", "--bogus"], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain("usage");
  });
});
