/**
 * The witness and the TSA of `npm start` (scripts/dev.ts): one local `kakunin-witness` that follows
 * every issuer log of this server, and the dev TSA, so a newcomer sees cosigned and timestamped
 * checkpoints at once. Both are optional: one that fails to start is reported and the stack runs
 * without it (checkpoints are then published unwitnessed or unstamped, and flagged).
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetPublicKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { formatCosignerVerifierKey, formatVerifierKey } from "../verifier/src/formats/index.js";
import { fileSigner } from "./witness/signer.js";

/** dev.ts's child starter: resolves with the first stdout line matching `ready`. */
export type Starter = (
  name: string,
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  opts?: { optional?: boolean },
) => Promise<{ child: ChildProcess; match: RegExpMatchArray; output: string[] }>;

const why = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];

export interface DevTsa {
  url: string;
  /** The dev TSA CA, pinned by the server (KAKUNIN_TSA_TRUST_FILE). */
  trustFile: string;
}

/** Starts the dev TSA on the local KMS and saves its CA for the server to pin; undefined if it fails. */
export async function startDevTsa(
  start: Starter,
  o: { kmsEndpoint: string; port: string; dataDir: string },
): Promise<DevTsa | undefined> {
  let child: ChildProcess | undefined;
  try {
    const tsa = await start(
      "tsa",
      "scripts/tsa/main.ts",
      ["--port", o.port],
      { KMS_ENDPOINT: o.kmsEndpoint },
      /listening on (http:\/\/\S+)/,
      { optional: true },
    );
    child = tsa.child;
    const url = tsa.match[1]!;
    const res = await fetch(`${url}/v1/public/tsa-ca.pem`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET /v1/public/tsa-ca.pem answered ${res.status}`);
    const dir = join(o.dataDir, "tsa");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const trustFile = join(dir, "tsa-ca.pem");
    writeFileSync(trustFile, await res.text());
    return { url: `${url}/`, trustFile };
  } catch (e) {
    child?.kill("SIGTERM");
    console.warn(`! The dev TSA did not start (${why(e)}); checkpoints will not be timestamped.`);
    return undefined;
  }
}

export interface DevWitness {
  name: string;
  vkey: string;
  url: string;
  keyFile: string;
  dataDir: string;
  port: string;
}

/**
 * The local witness's identity, known before it runs (the server must be told the witness's vkey at
 * start, and the witness the log's key, which exists once the server has started): its key file
 * (created 0600 by the witness's own code) and the vkey derived from it.
 */
export async function planDevWitness(o: { dataDir: string; port: string }): Promise<DevWitness | undefined> {
  try {
    const dataDir = join(o.dataDir, "kakunin-witness");
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const keyFile = join(dataDir, "key.pem");
    const name = "kakunin.local/dev-witness";
    const vkey = await formatCosignerVerifierKey(name, fileSigner(keyFile).publicKey);
    return { name, vkey, url: `http://127.0.0.1:${o.port}`, keyFile, dataDir, port: o.port };
  } catch (e) {
    console.warn(`! The local witness cannot be set up (${why(e)}); checkpoints will not be witnessed.`);
    return undefined;
  }
}

/** The KMS alias of the server's checkpoint key (server/authority/system-keys.ts, purpose `tlog`). */
const CHECKPOINT_KEY_ALIAS = "alias/kakunin/tlog";

/**
 * The server's checkpoint verifier key under its log name, read from the local KMS once the server
 * has created the key on its first start (the same public key signs every issuer's log, each under
 * its origin `<log name>/<issuer id>`: the witness follows them all with `--log-prefix`).
 */
export async function checkpointVerifierKey(kmsEndpoint: string, logName: string): Promise<string> {
  const kms = new KMSClient({
    region: process.env.AWS_REGION || "eu-west-1",
    endpoint: kmsEndpoint,
    credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" },
    maxAttempts: 2,
  });
  try {
    const out = await kms.send(new GetPublicKeyCommand({ KeyId: CHECKPOINT_KEY_ALIAS }), {
      abortSignal: AbortSignal.timeout(5000),
    });
    if (out.KeySpec !== "ECC_NIST_EDWARDS25519" || !out.PublicKey)
      throw new Error(`${CHECKPOINT_KEY_ALIAS} is not an Ed25519 key`);
    // Ed25519 SPKI (RFC 8410): a 12-byte prefix, then the 32-byte key.
    return await formatVerifierKey(logName, out.PublicKey.slice(-32));
  } finally {
    kms.destroy();
  }
}

/**
 * Starts the planned witness following every origin under `originPrefix` signed by `logVkey` (the
 * current key), and each origin-named line of `publishedKeys` (GET /v1/public/log-keys: also the
 * keys a log key rotation retired, whose checkpoints the server may still re-send).
 */
export async function startDevWitness(
  start: Starter,
  w: DevWitness,
  originPrefix: string,
  logVkey: string,
  publishedKeys: readonly string[] = [],
): Promise<boolean> {
  try {
    const { output } = await start(
      "witness",
      "scripts/witness/main.ts",
      [
        ...["--port", w.port, "--data-dir", w.dataDir, "--name", w.name, "--key-file", w.keyFile],
        ...["--log-prefix", originPrefix, logVkey],
        ...publishedKeys.flatMap((k) => ["--log", k]),
      ],
      {},
      /^witness listening: (\S+)/,
      { optional: true },
    );
    const printed = output.map((l) => /^witness vkey: (\S+)$/.exec(l)?.[1]).find(Boolean);
    if (printed !== w.vkey) throw new Error(`it prints vkey ${printed}, the server was configured with ${w.vkey}`);
    return true;
  } catch (e) {
    console.warn(
      `! The local witness did not start (${why(e)}); checkpoints are published without its cosignature and flagged (kakunin-witness-quorum: missing).`,
    );
    return false;
  }
}

/** The server's environment for them (nothing for one that is absent). */
export function trustServicesEnv(tsa: DevTsa | undefined, witness: DevWitness | undefined): Record<string, string> {
  return {
    ...(tsa ? { KAKUNIN_TSA_URLS: tsa.url, KAKUNIN_TSA_TRUST_FILE: tsa.trustFile } : {}),
    ...(witness ? { KAKUNIN_WITNESSES: `local ${witness.vkey} ${witness.url}` } : {}),
  };
}
