/**
 * A checkpoint below its witness quorum keeps being retried across a server restart: the real server
 * (SQLite, local KMS) with two real `kakunin-witness` processes; w2 is killed, a checkpoint is
 * published with w1's cosignature only (`GET /v1/logs` shows the retry), the server is restarted
 * while w2 is still down, w2 comes back — and that same checkpoint (no new one is published) gets
 * w2's cosignature, in the served checkpoint and in a receipt's proof.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileSigner } from "../../../scripts/witness/signer.js";
import { checkpointVerifierKey } from "../../../scripts/start-trust-services.js";
import {
  formatCosignerVerifierKey,
  parseCheckpoint,
  parseNote,
  parseTlogProof,
} from "../../../verifier/src/formats/index.js";
import { apiClient, setupIssuer, type TestIssuer } from "../../helpers/client.js";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { startWitness, type WitnessProcess } from "../../helpers/witness.js";
import { freePort } from "../../helpers/free-port.js";
import { until } from "../../helpers/wait.js";

const LOG_NAME = "kakunin.test";
let kms: LocalKms;
let dataDir: string;
let server: RunningServer;
let serverEnv: Record<string, string>;
let issuer: TestIssuer;
let logVkey: string;
const witnesses: Record<string, { port: string; keyFile: string; vkey: string; proc?: WitnessProcess }> = {};

async function startW(name: string): Promise<WitnessProcess> {
  const w = witnesses[name]!;
  w.proc = await startWitness([
    ...["--port", w.port, "--name", `${name}.example/witness`, "--key-file", w.keyFile],
    ...["--data-dir", join(dataDir, `witness-${name}`), "--log-prefix", `${LOG_NAME}/`, logVkey],
  ]);
  return w.proc;
}

async function served(): Promise<{ size: number; note: string; quorum: string | null }> {
  const res = await fetch(`${server.url}/v1/logs/${issuer.id}/checkpoint`);
  expect(res.status).toBe(200);
  const note = await res.text();
  return { size: parseCheckpoint(parseNote(note).text).size, note, quorum: res.headers.get("kakunin-witness-quorum") };
}

async function witnessing(): Promise<any> {
  const res = await fetch(`${server.url}/v1/logs`);
  expect(res.status).toBe(200);
  return ((await res.json()) as any).logs.find((l: any) => l.issuer === issuer.id).witnessing;
}

async function append(n: number): Promise<number[]> {
  const agent = apiClient(server.url, issuer.agents[0]!.token);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await agent.sign(issuer.agents[0]!.id, { payload: { n: i } })).entry.seq);
  return out;
}

const start = async () => {
  server = await startServer({
    kmsEndpoint: kms.endpoint,
    dataDir,
    env: serverEnv,
    ...(server ? { operatorToken: server.operatorToken } : {}),
  });
};

beforeAll(async () => {
  kms = await startLocalKms();
  dataDir = await mkdtemp(join(tmpdir(), "witness-retry-restart-"));
  for (const name of ["w1", "w2"]) {
    const keyFile = join(dataDir, `${name}.pem`);
    witnesses[name] = {
      port: String(await freePort()),
      keyFile,
      vkey: await formatCosignerVerifierKey(`${name}.example/witness`, fileSigner(keyFile).publicKey),
    };
  }
  serverEnv = {
    KAKUNIN_WITNESSES: Object.entries(witnesses)
      .map(([n, w]) => `${n} ${w.vkey} http://127.0.0.1:${w.port}`)
      .join(", "),
    KAKUNIN_WITNESS_TIMEOUT_MS: "2000",
    KAKUNIN_CHECKPOINT_INTERVAL_MS: "200",
  };
  await start();
  logVkey = await checkpointVerifierKey(kms.endpoint, LOG_NAME);
  await Promise.all([startW("w1"), startW("w2")]);
  issuer = await setupIssuer(server.url, server.operatorToken, 1, "Retried Bank");
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(witnesses).map((w) => w.proc?.stop()));
  await server?.stop();
  await kms?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("below-quorum retry across a restart", () => {
  it("resumes retrying the newest below-quorum checkpoint; the returning witness cosigns it", async () => {
    const first = (await append(2)).at(-1)!;
    await until("both witnesses cosigned", async () => {
      const c = await served();
      return c.size > first && c.quorum === "met; cosigned=w1,w2" ? c : undefined;
    });
    // The retry state is cleared just after the cosignatures are stored.
    await until("no retry", async () => ((await witnessing()).retry === null ? true : undefined));
    expect(await witnessing()).toMatchObject({ quorumMet: true, pendingWitnesses: [], retry: null });

    await witnesses.w2!.proc!.kill();
    const seqs = await append(3);
    const last = seqs.at(-1)!;
    const flagged = await until("the newest checkpoint published with w1 only, and retried", async () => {
      const c = await served();
      if (c.size <= last || c.quorum !== "missing; cosigned=w1; missing=w2") return undefined;
      const w = await witnessing();
      return w.retry?.size === c.size && w.retry.attempts >= 1 ? { c, w } : undefined;
    });
    expect(flagged.w).toMatchObject({ quorumMet: false, cosigned: ["w1"], pendingWitnesses: ["w2"] });
    expect(flagged.w.retry.missing).toEqual(["w2"]);

    // Restart while w2 is still down: the retry is in the database, not only in the old process.
    await server.stop();
    await start();
    expect((await witnessing()).retry).toMatchObject({ size: flagged.c.size });
    await until(
      "the resumed retry logged",
      async () =>
        /resuming the witness retry of a checkpoint below its quorum/.test(await readFile(server.logPath, "utf8")) ||
        undefined,
    );
    await startW("w2");
    const done = await until("the same checkpoint cosigned by w2", async () => {
      const c = await served();
      return c.quorum === "met; cosigned=w1,w2" ? c : undefined;
    });
    expect(done.size).toBe(flagged.c.size); // the retried checkpoint itself, not a newer one
    expect(parseNote(done.note).signatures.map((s) => s.name)).toEqual([
      `${LOG_NAME}/${issuer.id}`,
      "w1.example/witness",
      "w2.example/witness",
    ]);
    await until("the retry cleared", async () => ((await witnessing()).retry === null ? true : undefined));
    expect(await witnessing()).toMatchObject({ quorumMet: true, cosigned: ["w1", "w2"], pendingWitnesses: [] });
    // A receipt's proof carries the checkpoint with both cosignatures.
    const res = await fetch(`${server.url}/v1/log/entries/${last}/receipt?wait=5`, {
      headers: { authorization: `Bearer ${issuer.token}` },
    });
    expect(res.status).toBe(200);
    const inReceipt = parseTlogProof(((await res.json()) as { proof: string }).proof).checkpoint;
    expect(inReceipt).toBe(done.note);
  }, 240_000);
});
