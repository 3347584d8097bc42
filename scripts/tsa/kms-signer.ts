/**
 * The TSA's keys in KMS: found by alias (or created once: RSA_2048, SIGN_VERIFY), public key read
 * with GetPublicKey, and digests signed with Sign MessageType=DIGEST. Every call has a deadline.
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetPublicKeyCommand,
  KMSClient,
  NotFoundException,
  SignCommand,
} from "@aws-sdk/client-kms";

/** A KMS signing key as the TSA uses it. */
export interface KmsKey {
  keyId: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** KMS CreationDate: the certificates' notBefore, so restarts re-issue byte-identical certificates. */
  createdAt: Date;
}

export class KmsCallError extends Error {
  readonly code = "ERR_TSA_KMS";
}

export interface KmsSignerOptions {
  endpoint?: string;
  region: string;
  /** Deadline per KMS call. */
  timeoutMs: number;
}

export class KmsSigner {
  private readonly client: KMSClient;
  constructor(private readonly opts: KmsSignerOptions) {
    this.client = new KMSClient({
      region: opts.region,
      maxAttempts: 2,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      // The local KMS accepts any credentials; real AWS uses the SDK's default chain.
      ...(opts.endpoint && !process.env.AWS_ACCESS_KEY_ID
        ? { credentials: { accessKeyId: "AKIDLOCAL", secretAccessKey: "local" } }
        : {}),
    });
  }

  private async call<T>(op: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await run(AbortSignal.timeout(this.opts.timeoutMs));
    } catch (err) {
      if (err instanceof NotFoundException) throw err;
      const e = err as Error;
      throw new KmsCallError(
        `KMS ${op} failed: ${e.name === "AbortError" || e.name === "TimeoutError" ? `no answer within ${this.opts.timeoutMs} ms` : e.name}`,
      );
    }
  }

  /** The key behind `alias` (e.g. `alias/kakunin-dev-tsa`), created on first use. */
  async ensureKey(alias: string, description: string): Promise<KmsKey> {
    let keyId: string | undefined;
    let createdAt: Date | undefined;
    try {
      const d = await this.call("DescribeKey", (abortSignal) =>
        this.client.send(new DescribeKeyCommand({ KeyId: alias }), { abortSignal }),
      );
      keyId = d.KeyMetadata?.Arn;
      createdAt = d.KeyMetadata?.CreationDate;
    } catch (err) {
      if (!(err instanceof NotFoundException)) throw err;
    }
    if (!keyId) {
      const c = await this.call("CreateKey", (abortSignal) =>
        this.client.send(
          new CreateKeyCommand({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY", Description: description }),
          { abortSignal },
        ),
      );
      keyId = c.KeyMetadata!.Arn!;
      createdAt = c.KeyMetadata!.CreationDate;
      const target = keyId;
      await this.call("CreateAlias", (abortSignal) =>
        this.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: target }), { abortSignal }),
      );
    }
    const id = keyId;
    const pub = await this.call("GetPublicKey", (abortSignal) =>
      this.client.send(new GetPublicKeyCommand({ KeyId: id }), { abortSignal }),
    );
    if (!pub.PublicKey || !pub.SigningAlgorithms?.includes("RSASSA_PKCS1_V1_5_SHA_256"))
      throw new KmsCallError(`KMS key ${alias} cannot sign RSASSA_PKCS1_V1_5_SHA_256`);
    return {
      keyId: id,
      spki: pub.PublicKey,
      createdAt: new Date(Math.floor((createdAt ?? new Date()).getTime() / 1000) * 1000),
    };
  }

  /** RSASSA-PKCS1-v1_5 signature over a SHA-256 digest computed here (KMS MessageType=DIGEST). */
  async signDigest(keyId: string, digest: Uint8Array): Promise<Uint8Array> {
    const out = await this.call("Sign", (abortSignal) =>
      this.client.send(
        new SignCommand({
          KeyId: keyId,
          Message: digest,
          MessageType: "DIGEST",
          SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
        }),
        { abortSignal },
      ),
    );
    if (!out.Signature) throw new KmsCallError("KMS Sign returned no signature");
    return out.Signature;
  }
}
