/**
 * The real server with two real `kakunin-witness` processes and the dev TSA (all over HTTP, local
 * KMS): every new checkpoint is cosigned by both witnesses and timestamped; `checkpoint.tsr` passes
 * `openssl ts -verify` over `timestamped-checkpoint`; a witness killed with SIGKILL never stops
 * appends (201), the quorum is reported missing, and after a restart the witness catches up; a TSA
 * that is down never stops appends, and the next checkpoint is timestamped once it is back.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
import { runProcess } from "../../helpers/process.js";
import { startServer, type RunningServer } from "../../helpers/server.js";
import { startDevTsa, type DevTsa } from "../../helpers/tsa.js";
import { startWitness, type WitnessProcess } from "../../helpers/witness.js";
import { freePort } from "../../helpers/free-port.js";
import { until } from "../../helpers/wait.js";

const LOG_NAME = "kakunin.test"; // KAKUNIN_PUBLIC_URL of the server helper, without its scheme
let kms: LocalKms;
let tsa: DevTsa;
let tsaPort: string;
let server: RunningServer;
let issuer: TestIssuer;
let logVkey: string;
const witnesses: Record<string, { port: string; keyFile: string; vkey: string; proc?: WitnessProcess }> = {};

async function startW(name: string): Promise<WitnessProcess> {
  const w = witnesses[name]!;
  w.proc = await startWitness([
    ...["--port", w.port, "--name", `${name}.example/witness`, "--key-file", w.keyFile],
    ...["--data-dir", join(server.dataDir, `witness-${name}`), "--log-prefix", `${LOG_NAME}/`, logVkey],
  ]);
  return w.proc;
}

const origin = () => `${LOG_NAME}/${issuer.id}`;
/** The latest checkpoint a witness has cosigned for the issuer's log (its monitor endpoint), or undefined. */
async function witnessedSize(name: string): Promise<number | undefined> {
  const w = witnesses[name]!.proc!;
  const hash = createHash("sha256").update(origin()).digest("hex");
  const res = await fetch(`${w.url}/${hash}/checkpoint`).catch(() => undefined);
  if (!res?.ok) return undefined;
  return parseCheckpoint(parseNote(await res.text()).text).size;
}

async function append(n: number): Promise<number[]> {
  const agent = apiClient(server.url, issuer.agents[0]!.token);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await agent.sign(issuer.agents[0]!.id, { payload: { n: i, at: Date.now() } });
    out.push(r.entry.seq);
  }
  return out;
}

async function tsr(): Promise<{ size: number; tsr: Buffer; text: string } | undefined> {
  const a = await fetch(`${server.url}/v1/logs/${issuer.id}/checkpoint.tsr`);
  if (a.status === 404) return undefined;
  expect(a.status).toBe(200);
  expect(a.headers.get("content-type")).toBe("application/timestamp-reply");
  const b = await fetch(`${server.url}/v1/logs/${issuer.id}/timestamped-checkpoint`);
  const size = Number(a.headers.get("kakunin-checkpoint-size"));
  if (Number(b.headers.get("kakunin-checkpoint-size")) !== size) return undefined; // stamped in between: ask again
  return { size, tsr: Buffer.from(await a.arrayBuffer()), text: await b.text() };
}

const serverLog = () => readFile(server.logPath, "utf8");

/** The issuer log's latest checkpoint as served, with its kakunin-witness-quorum header. */
async function servedCheckpoint(): Promise<{ size: number; note: string; quorum: string | null }> {
  const res = await fetch(`${server.url}/v1/logs/${issuer.id}/checkpoint`);
  expect(res.status).toBe(200);
  const note = await res.text();
  return { size: parseCheckpoint(parseNote(note).text).size, note, quorum: res.headers.get("kakunin-witness-quorum") };
}

async function receipt(seq: number): Promise<{ proof: string; timestamps?: string[] }> {
  const res = await fetch(`${server.url}/v1/log/entries/${seq}/receipt?wait=5`, {
    headers: { authorization: `Bearer ${issuer.token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { proof: string; timestamps?: string[] };
}

async function opensslVerify(data: string, args: string[]): Promise<string> {
  const dir = server.dataDir;
  await writeFile(join(dir, "verify-data.txt"), data);
  const r = await runProcess("openssl", [
    ...["ts", "-verify", "-data", join(dir, "verify-data.txt"), ...args, "-CAfile", join(dir, "tsa-ca.pem")],
  ]);
  return r.stdout + r.stderr;
}

beforeAll(async () => {
  kms = await startLocalKms();
  tsaPort = String(await freePort());
  tsa = await startDevTsa(kms.endpoint, ["--port", tsaPort]);
  const data = await mkdtemp(join(tmpdir(), "server-trust-"));
  await writeFile(join(data, "tsa-ca.pem"), await (await fetch(`${tsa.url}/v1/public/tsa-ca.pem`)).text());
  for (const name of ["w1", "w2"]) {
    const keyFile = join(data, `${name}.pem`);
    witnesses[name] = {
      port: String(await freePort()),
      keyFile,
      vkey: await formatCosignerVerifierKey(`${name}.example/witness`, fileSigner(keyFile).publicKey),
    };
  }
  server = await startServer({
    kmsEndpoint: kms.endpoint,
    dataDir: data,
    env: {
      KAKUNIN_WITNESSES: Object.entries(witnesses)
        .map(([n, w]) => `${n} ${w.vkey} http://127.0.0.1:${w.port}`)
        .join(", "),
      KAKUNIN_WITNESS_TIMEOUT_MS: "3000",
      KAKUNIN_TSA_URLS: `${tsa.url}/`,
      KAKUNIN_TSA_TRUST_FILE: join(data, "tsa-ca.pem"),
      KAKUNIN_TSA_TIMEOUT_MS: "3000",
      KAKUNIN_CHECKPOINT_INTERVAL_MS: "200",
    },
  });
  // The server created its checkpoint key on first start; the witnesses follow every issuer log under it.
  logVkey = await checkpointVerifierKey(kms.endpoint, LOG_NAME);
  await Promise.all([startW("w1"), startW("w2")]);
  issuer = await setupIssuer(server.url, server.operatorToken, 1, "Witnessed Bank");
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(witnesses).map((w) => w.proc?.stop()));
  await server?.stop();
  await tsa?.stop();
  await kms?.stop();
  if (server) await rm(server.dataDir, { recursive: true, force: true });
});

describe("server with witnesses and a TSA", () => {
  it("checkpoints are cosigned by both witnesses and timestamped; checkpoint.tsr passes openssl ts -verify", async () => {
    const seqs = await append(5);
    const size = seqs.at(-1)! + 1;
    for (const w of ["w1", "w2"])
      await until(`${w} cosigned size ≥ ${size}`, async () => ((await witnessedSize(w)) ?? 0) >= size || undefined);
    const stamped = await until("a timestamped checkpoint covering the appends", async () => {
      const t = await tsr();
      return t && t.size >= size ? t : undefined;
    });
    expect(parseCheckpoint(stamped.text)).toMatchObject({ origin: origin(), size: stamped.size });
    const dir = server.dataDir;
    await writeFile(join(dir, "checkpoint.tsr"), stamped.tsr);
    await writeFile(join(dir, "checkpoint.txt"), stamped.text);
    const verify = await runProcess("openssl", [
      ...["ts", "-verify", "-data", join(dir, "checkpoint.txt"), "-in", join(dir, "checkpoint.tsr")],
      ...["-CAfile", join(dir, "tsa-ca.pem")],
    ]);
    expect(verify.stdout).toContain("Verification: OK");
    // The check can fail: another text under the same token does not verify.
    await writeFile(join(dir, "other.txt"), stamped.text.replace(/\n\d+\n/, "\n1\n"));
    const wrong = await runProcess("openssl", [
      ...["ts", "-verify", "-data", join(dir, "other.txt"), "-in", join(dir, "checkpoint.tsr")],
      ...["-CAfile", join(dir, "tsa-ca.pem")],
    ]);
    expect(wrong.stdout + wrong.stderr).not.toContain("Verification: OK");
    expect(await serverLog()).toMatch(/"cosigned":\["w1","w2"\].*"msg":"checkpoint witnessed"/);

    // The served checkpoint carries both cosignatures, and the header says the quorum is met.
    const served = await until("the served checkpoint cosigned by both", async () => {
      const c = await servedCheckpoint();
      return c.size >= size && c.quorum === "met; cosigned=w1,w2" ? c : undefined;
    });
    expect(parseNote(served.note).signatures).toHaveLength(3);

    // Receipts v2: the tokens of the smallest timestamped checkpoint covering the entry, and the proof against it.
    const r = await receipt(seqs[0]!);
    expect(r.timestamps?.length).toBe(1);
    const inProof = parseNote(parseTlogProof(r.proof).checkpoint).text;
    expect(parseTlogProof(r.proof).index).toBe(seqs[0]);
    await writeFile(join(dir, "token.der"), Buffer.from(r.timestamps![0]!, "base64"));
    expect(await opensslVerify(inProof, ["-token_in", "-in", join(dir, "token.der")])).toContain("Verification: OK");
    expect(await opensslVerify(inProof + "x", ["-token_in", "-in", join(dir, "token.der")])).not.toContain(
      "Verification: OK",
    );
  }, 120_000);

  it("a witness killed (SIGKILL): appends keep answering 201, the quorum is reported missing, and the witness catches up after a restart", async () => {
    await witnesses.w2!.proc!.kill();
    const seqs = await append(6); // every one answered 201 (sign throws otherwise)
    const size = seqs.at(-1)! + 1;
    await until(
      "w1 alone cosigned the new checkpoint",
      async () => ((await witnessedSize("w1")) ?? 0) >= size || undefined,
    );
    await until(
      "the missing quorum is logged",
      async () =>
        /"cosigned":\["w1"\].*"checkpoint published without its witness quorum; will retry"/.test(await serverLog()) ||
        undefined,
    );
    // Published anyway, flagged: w1's cosignature only (the latest checkpoint's round may still be under way).
    const flagged = await until("the served checkpoint flagged", async () => {
      const c = await servedCheckpoint();
      return c.quorum === "missing; cosigned=w1; missing=w2" ? c : undefined;
    });
    expect(flagged.size).toBeGreaterThanOrEqual(size);
    await startW("w2");
    await until(
      "w2 cosigned the checkpoint it missed",
      async () => ((await witnessedSize("w2")) ?? 0) >= size || undefined,
    );
    await until(
      "the served checkpoint back at quorum",
      async () => (await servedCheckpoint()).quorum === "met; cosigned=w1,w2" || undefined,
    );
  }, 120_000);

  it("a TSA that is down never stops appends; the next checkpoint is timestamped once it is back", async () => {
    const before = (await tsr())!.size;
    await tsa.stop();
    const seqs = await append(3);
    const size = seqs.at(-1)! + 1;
    await until(
      "the failed timestamp round is logged",
      async () => /no TSA timestamped the checkpoint; will retry/.test(await serverLog()) || undefined,
    );
    expect((await tsr())!.size).toBe(before);
    tsa = await startDevTsa(kms.endpoint, ["--port", tsaPort]);
    const next = (await append(1))[0]! + 1;
    const stamped = await until("the next checkpoint timestamped", async () => {
      const t = await tsr();
      return t && t.size >= next ? t : undefined;
    });
    expect(stamped.size).toBeGreaterThan(size - 1);
  }, 120_000);
});
