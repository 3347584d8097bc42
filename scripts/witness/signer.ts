/** The witness's Ed25519 key: an AWS KMS key (the default) or a local key file created with mode 0600. */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { GetPublicKeyCommand, KMSClient, SignCommand } from "@aws-sdk/client-kms";

/** Signs raw messages with Ed25519 (pure, not prehashed). */
export interface WitnessSigner {
  /** 32-byte raw Ed25519 public key. */
  publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** What the key is, for logs (never secret material). */
  describe: string;
}

/** The signer could not be set up or did not answer in time. */
export class SignerError extends Error {
  readonly code = "ERR_WITNESS_SIGNER";
}

function rawPublicKey(spki: Uint8Array): Uint8Array {
  const key = createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" });
  if (key.asymmetricKeyType !== "ed25519") throw new SignerError(`the key is ${key.asymmetricKeyType}, not Ed25519`);
  return new Uint8Array(Buffer.from(key.export({ format: "jwk" }).x!, "base64url"));
}

/** Every signature is checked before use: a KMS that signs with another key must not yield cosignatures. */
function checked(
  publicKey: Uint8Array,
  sign: (m: Uint8Array) => Promise<Uint8Array>,
): (m: Uint8Array) => Promise<Uint8Array> {
  const pub = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") },
    format: "jwk",
  });
  return async (m) => {
    const sig = await sign(m);
    if (sig.length !== 64 || !nodeVerify(null, m, pub, sig))
      throw new SignerError("the signer returned a signature that does not verify under its public key");
    return sig;
  };
}

export interface KmsSignerOptions {
  keyId: string;
  endpoint?: string;
  region: string;
  timeoutMs: number;
}

/** An Ed25519 KMS key (ECC_NIST_EDWARDS25519, ED25519_SHA_512 over the RAW message). Every call has a deadline. */
export async function kmsSigner(o: KmsSignerOptions): Promise<WitnessSigner> {
  const client = new KMSClient({ region: o.region, maxAttempts: 2, ...(o.endpoint ? { endpoint: o.endpoint } : {}) });
  const call = async <T>(what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await run(AbortSignal.timeout(o.timeoutMs));
    } catch (e) {
      const err = e as Error;
      const why =
        err.name === "AbortError" || err.name === "TimeoutError"
          ? `no answer within ${o.timeoutMs} ms`
          : `${err.name}: ${err.message}`;
      throw new SignerError(`KMS ${what} failed: ${why}`);
    }
  };
  const out = await call("GetPublicKey", (abortSignal) =>
    client.send(new GetPublicKeyCommand({ KeyId: o.keyId }), { abortSignal }),
  );
  if (out.KeySpec !== "ECC_NIST_EDWARDS25519")
    throw new SignerError(`KMS key ${o.keyId} has KeySpec ${out.KeySpec}, the witness needs ECC_NIST_EDWARDS25519`);
  if (out.KeyUsage !== "SIGN_VERIFY") throw new SignerError(`KMS key ${o.keyId} is not a SIGN_VERIFY key`);
  if (!out.PublicKey) throw new SignerError("KMS GetPublicKey returned no public key");
  const publicKey = rawPublicKey(out.PublicKey);
  const sign = async (message: Uint8Array): Promise<Uint8Array> => {
    const r = await call("Sign", (abortSignal) =>
      client.send(
        new SignCommand({ KeyId: o.keyId, Message: message, MessageType: "RAW", SigningAlgorithm: "ED25519_SHA_512" }),
        { abortSignal },
      ),
    );
    if (!r.Signature) throw new SignerError("KMS Sign returned no signature");
    return r.Signature;
  };
  return { publicKey, sign: checked(publicKey, sign), describe: `kms:${o.keyId}` };
}

/** A local Ed25519 key in a PKCS#8 PEM file: created with mode 0600 if absent, refused if others may read it. */
export function fileSigner(path: string): WitnessSigner {
  let key: KeyObject;
  let mode: number | undefined;
  try {
    mode = statSync(path).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT")
      throw new SignerError(`--key-file ${path}: ${(e as Error).message}`);
  }
  if (mode === undefined) {
    const pair = generateKeyPairSync("ed25519");
    try {
      writeFileSync(path, pair.privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600, flag: "wx" });
    } catch (e) {
      throw new SignerError(`--key-file ${path}: cannot create: ${(e as Error).message}`);
    }
    key = pair.privateKey;
  } else {
    if ((mode & 0o077) !== 0)
      throw new SignerError(
        `--key-file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
      );
    try {
      key = createPrivateKey(readFileSync(path));
    } catch {
      throw new SignerError(`--key-file ${path} is not a PEM private key`);
    }
    if (key.asymmetricKeyType !== "ed25519")
      throw new SignerError(`--key-file ${path} holds a ${key.asymmetricKeyType} key, not Ed25519`);
  }
  const publicKey = rawPublicKey(createPublicKey(key).export({ format: "der", type: "spki" }));
  return {
    publicKey,
    sign: checked(publicKey, async (m) => new Uint8Array(nodeSign(null, m, key))),
    describe: `file:${path}`,
  };
}
