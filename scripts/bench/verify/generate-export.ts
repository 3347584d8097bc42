/**
 * The verify benchmark's input: a `kakunin-log/1` export of N entries, FORMATS.md exactly, with a CA,
 * a log signer and 8 agents, one rotation, one revocation, every entry signed (RSASSA-PSS) in worker threads.
 */
import { createHash } from "node:crypto";
import { createWriteStream, mkdirSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import canonicalize from "canonicalize";
import { certificateLine, cores, exportHeaderLine } from "../lib.js";
import type { CertificateLine } from "../../../verifier/src/formats/wire.js";
import { ZERO_HASH } from "../../../verifier/src/formats/hash.js";

/** Agents in the generated export; `run` needs at least AGENTS + 2 entries. */
export const AGENTS = 8;

export const sha256 = (b: string | Uint8Array) => createHash("sha256").update(b).digest("hex");
export const jcs = (v: unknown) => canonicalize(v)!;

export interface Meta {
  entries: number;
  caFingerprint: string;
  generatedIn: number;
}

/** Signs batches with node:crypto (RSASSA-PSS, SHA-256, salt 32) in one worker per core. */
const SIGNER_SRC = `
const { parentPort, workerData } = require("node:worker_threads");
const crypto = require("node:crypto");
const keys = workerData.keys.map((k) => crypto.createPrivateKey({ key: Buffer.from(k), format: "der", type: "pkcs8" }));
parentPort.on("message", ({ id, items }) => {
  const sigs = items.map(([k, msg]) => crypto.sign("sha256", Buffer.from(msg, "utf8"), { key: keys[k], padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString("base64"));
  parentPort.postMessage({ id, sigs });
});`;

export async function generate(n: number, path: string): Promise<Meta> {
  const t0 = performance.now();
  // The PKI fixtures of the verifier's tests (WebCrypto + @peculiar/x509, docs/ARCHITECTURE.md#keys-and-certificates profiles).
  const pki = await import("../../../test/unit/verifier/fixtures/pki.js");
  const { webcrypto } = await import("node:crypto");
  const ca = await pki.makeCa("Kakunin Bench CA");
  const log = await pki.issueLogSigner(ca);
  const issuer = `iss_${sha256("bench").slice(0, 32)}`;
  const agentIds = Array.from({ length: AGENTS }, (_, i) => `agt_${sha256(`agent-${i}`).slice(0, 32)}`);
  const agentCerts = await Promise.all(agentIds.map((id) => pki.issueAgent(ca, id, { o: "Bench Issuer" })));
  const rotatedNew = await pki.issueAgent(ca, agentIds[0]!, { o: "Bench Issuer" });
  const signers = [log, ...agentCerts, rotatedNew];
  const pkcs8 = await Promise.all(
    signers.map(async (s) => new Uint8Array(await webcrypto.subtle.exportKey("pkcs8", s.keys.privateKey))),
  );
  const idx = new Map(signers.map((s, i) => [s.serial, i]));

  const start = Date.now() - n - 3_600_000; // one entry per ms, ending an hour ago
  const rotateAt = Math.floor(n * 0.4);
  const revokeAt = Math.floor(n * 0.7);
  const revokedAgent = AGENTS - 1;
  const revokeTime = new Date(start + revokeAt).toISOString();
  const crl = await pki.makeCrl(
    ca,
    [{ serial: agentCerts[revokedAgent]!.serial, date: new Date(start + revokeAt) }],
    2,
  );

  type Body = Record<string, unknown>;
  const signerBlock = (s: typeof log) => ({ cert: s.serial, key: s.keyArn, alg: "RSASSA_PSS_SHA_256" });
  const lifecycle = (seq: number, type: string, agent: string, details: Record<string, string>): Body => ({
    v: 1,
    seq,
    time: "",
    type,
    issuer,
    agent,
    signer: signerBlock(log),
    payloadHash: sha256(jcs(details)),
    prevHash: "",
    details,
  });
  /** The entry at seq (without time/prevHash/hash/sig). */
  function body(seq: number): Body {
    if (seq < AGENTS) return lifecycle(seq, "agent.registered", agentIds[seq]!, { cert: agentCerts[seq]!.serial });
    if (seq === rotateAt)
      return lifecycle(seq, "key.rotated", agentIds[0]!, {
        oldCert: agentCerts[0]!.serial,
        newCert: rotatedNew.serial,
      });
    if (seq === revokeAt)
      return lifecycle(seq, "certificate.revoked", agentIds[revokedAgent]!, {
        cert: agentCerts[revokedAgent]!.serial,
        reason: "keyCompromise",
      });
    let a = seq % AGENTS;
    if (a === revokedAgent && seq > revokeAt) a = seq % (AGENTS - 1);
    const cert = a === 0 && seq > rotateAt ? rotatedNew : agentCerts[a]!;
    const e: Body = {
      v: 1,
      seq,
      time: "",
      type: "agent.operation",
      issuer,
      agent: agentIds[a]!,
      signer: signerBlock(cert),
      payloadHash: sha256(`{"n":${seq},"op":"bench"}`),
      prevHash: "",
    };
    if (seq % 10 === 3) e.details = { contentType: "application/json" };
    return e;
  }

  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r()));
  const cert = certificateLine;
  await write(exportHeaderLine(issuer, n, ca.pem) + "\n");
  const rotTime = new Date(start + rotateAt).toISOString();
  await write(cert(log, {}) + "\n");
  for (const [i, c] of agentCerts.entries()) {
    const extra: Partial<CertificateLine> =
      i === 0
        ? { status: "superseded", keyState: "Disabled", disabledAt: rotTime, supersededAt: rotTime }
        : i === revokedAgent
          ? {
              status: "revoked",
              keyState: "Disabled",
              disabledAt: revokeTime,
              revokedAt: revokeTime,
              revocationReason: "keyCompromise",
            }
          : {};
    await write(cert(c, extra) + "\n");
  }
  await write(cert(rotatedNew, {}) + "\n");
  await write(JSON.stringify({ kind: "crl", pem: crl }) + "\n");

  const workers = Array.from(
    { length: cores },
    () => new Worker(SIGNER_SRC, { eval: true, workerData: { keys: pkcs8 } }),
  );
  const pending = new Map<number, (sigs: string[]) => void>();
  for (const w of workers)
    w.on("message", (m: { id: number; sigs: string[] }) => {
      pending.get(m.id)!(m.sigs);
      pending.delete(m.id);
    });
  let nextId = 0;
  const sign = (w: Worker, items: [number, string][]) =>
    new Promise<string[]>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      w.postMessage({ id, items });
    });

  const BATCH = 2000;
  let prev = ZERO_HASH;
  let last = "";
  const inflight: Promise<string>[] = [];
  let lastReport = performance.now();
  for (let from = 0, b = 0; from < n; from += BATCH, b++) {
    const bodies: string[] = [];
    const items: [number, string][] = [];
    for (let seq = from; seq < Math.min(n, from + BATCH); seq++) {
      const e = body(seq);
      e.time = new Date(start + seq).toISOString();
      e.prevHash = prev;
      const bytes = jcs(e);
      prev = sha256(bytes);
      bodies.push(bytes);
      items.push([idx.get((e.signer as { cert: string }).cert)!, bytes]);
    }
    const hashes = bodies.map((x) => sha256(x));
    inflight.push(
      sign(workers[b % workers.length]!, items).then((sigs) =>
        bodies
          .map((x, i) => `{"kind":"entry","entry":${x.slice(0, -1)},"hash":"${hashes[i]}","sig":"${sigs[i]}"}}\n`)
          .join(""),
      ),
    );
    while (inflight.length >= workers.length * 2) await write(await inflight.shift()!);
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      process.stderr.write(`  generating: ${from} / ${n} entries\n`);
    }
  }
  while (inflight.length) await write(await inflight.shift()!);
  last = prev;
  await Promise.all(workers.map((w) => w.terminate()));
  const cp: Record<string, unknown> = {
    issuer,
    size: n,
    head: last,
    time: new Date(start + n).toISOString(),
    signer: signerBlock(log),
  };
  const cpSig = await webcrypto.subtle.sign(
    { name: "RSA-PSS", saltLength: 32 },
    log.keys.privateKey,
    Buffer.from(jcs(cp)),
  );
  await write(
    JSON.stringify({ kind: "checkpoint", checkpoint: { ...cp, sig: Buffer.from(cpSig).toString("base64") } }) + "\n",
  );
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  renameSync(tmp, path);
  return { entries: n, caFingerprint: ca.fingerprint, generatedIn: (performance.now() - t0) / 1000 };
}
