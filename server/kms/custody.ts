/**
 * KeyCustody — the only module that talks to KMS. It holds key ARNs, never key material: KMS keys
 * are created non-exportable (RSA_2048, SIGN_VERIFY) and used through Sign with MessageType=DIGEST.
 * Every SDK error is mapped to a typed error (server/kms/errors.ts). Every call is bounded by
 * `callTimeoutMs`, the SDK's retries included (server/kms/deadline.ts), and its outcome is noted
 * in `health` (what /readyz reports).
 */
import {
  CreateAliasCommand,
  UpdateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetPublicKeyCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  SignCommand,
  type KMSClient,
  type Tag,
} from "@aws-sdk/client-kms";
import {
  KmsFailureError,
  KmsNotFoundError,
  KmsUnavailableError,
  RegionNotAllowedError,
  mapKmsError,
} from "./errors.js";
import { CREATE_KEY_MIN_TIMEOUT_MS, DEFAULT_KMS_CALL_TIMEOUT_MS, withDeadline } from "./deadline.js";
import { KmsHealth } from "./health.js";
import { buildKeyPolicy, type KeyPolicyContext } from "./policy.js";
import { KmsSignClient } from "./sign-client.js";

export type SigningAlgorithm = "RSASSA_PSS_SHA_256" | "RSASSA_PKCS1_V1_5_SHA_256";
export type KeyPurpose = "agent" | "ca" | "log" | "tlog";
/** Key specs Kakunin creates: RSA_2048 for certificates and v1 entries, Ed25519 for signed-note checkpoints. */
export type SigningKeySpec = "RSA_2048" | "ECC_NIST_EDWARDS25519";
export type { KeyPolicyContext } from "./policy.js";

export const CA_KEY_ALIAS = "alias/kakunin/ca";
export const LOG_KEY_ALIAS = "alias/kakunin/log";

export interface KeyCustodyOptions {
  /** The region the client talks to; refused unless it is in allowedRegions. */
  region: string;
  allowedRegions: string[];
  /** Builds the key policy JSON at CreateKey. Default: buildKeyPolicy (least privilege). */
  keyPolicy?: (ctx: KeyPolicyContext) => string;
  /** The IAM role the service runs as (KAKUNIN_SERVICE_ROLE_ARN). Default arn:aws:iam::<account>:role/kakunin-service. */
  serviceRoleArn?: string;
  /**
   * The AWS account id, for the key policy at creation. If neither this nor serviceRoleArn is given,
   * the first key is created with KMS's default policy and immediately given the least-privilege
   * policy (PutKeyPolicy) once its ARN reveals the account; later keys get it at creation.
   */
  accountId?: string;
  /**
   * How Sign is called: "direct" (default; KmsSignClient: same endpoint, credentials, retries and
   * clock offset as the SDK client, without its per-call middleware stack) or "sdk" (SignCommand).
   * Every other operation always goes through the SDK. (KAKUNIN_KMS_SIGN_TRANSPORT)
   */
  signTransport?: "direct" | "sdk";
  /** Bound on each call, retries included (KAKUNIN_KMS_CALL_TIMEOUT_MS; default DEFAULT_KMS_CALL_TIMEOUT_MS). */
  callTimeoutMs?: number;
}

export interface KeyDescription {
  arn: string;
  state: string;
  enabled: boolean;
}

const ARN_RE = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key\/[A-Za-z0-9-]+$/;
const ROLE_ARN_RE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/.+$/;
const ALIAS_RE = /^alias\/[A-Za-z0-9/_-]{1,250}$/;

export function parseKeyArn(arn: string): { region: string; accountId: string } | undefined {
  const m = ARN_RE.exec(arn);
  return m ? { region: m[1]!, accountId: m[2]! } : undefined;
}

export function assertRegionAllowed(region: string, allowedRegions: readonly string[]): void {
  if (!allowedRegions.includes(region)) throw new RegionNotAllowedError(region, allowedRegions);
}

export class KeyCustody {
  readonly region: string;
  private readonly allowedRegions: string[];
  private readonly keyPolicy: (ctx: KeyPolicyContext) => string;
  private readonly serviceRoleArnOption: string | undefined;
  private accountId: string | undefined;
  private readonly signClient: KmsSignClient | undefined;
  private readonly callTimeoutMs: number;
  /** What the last calls saw of KMS (ok / degraded). */
  readonly health = new KmsHealth();

  constructor(
    private readonly client: KMSClient,
    opts: KeyCustodyOptions,
  ) {
    this.region = opts.region;
    this.allowedRegions = [...opts.allowedRegions];
    this.keyPolicy = opts.keyPolicy ?? buildKeyPolicy;
    this.serviceRoleArnOption = opts.serviceRoleArn;
    if (opts.serviceRoleArn !== undefined && !ROLE_ARN_RE.test(opts.serviceRoleArn)) {
      throw new Error(`serviceRoleArn is not an IAM role ARN: ${opts.serviceRoleArn}`);
    }
    if (opts.accountId !== undefined && !/^\d{12}$/.test(opts.accountId)) {
      throw new Error(`accountId must be 12 digits: ${opts.accountId}`);
    }
    this.accountId = opts.accountId ?? (opts.serviceRoleArn ? ROLE_ARN_RE.exec(opts.serviceRoleArn)?.[1] : undefined);
    this.signClient = opts.signTransport === "sdk" ? undefined : new KmsSignClient(client);
    this.callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_KMS_CALL_TIMEOUT_MS;
  }

  /** Creates a non-exportable RSA_2048 SIGN_VERIFY key with tags, a least-privilege policy and an optional alias. */
  async createSigningKey(opts: {
    purpose: KeyPurpose;
    tags: Record<string, string>;
    description: string;
    alias?: string;
    /** Default RSA_2048. */
    keySpec?: SigningKeySpec;
  }): Promise<{ arn: string }> {
    await this.assertRegions();
    if (opts.alias !== undefined && !ALIAS_RE.test(opts.alias)) throw new Error(`Invalid KMS alias: ${opts.alias}`);
    if (opts.alias?.startsWith("alias/aws/")) throw new Error("alias/aws/ is reserved for AWS managed keys");
    const tags: Tag[] = [{ TagKey: "kakunin:purpose", TagValue: opts.purpose }];
    for (const [k, v] of Object.entries(opts.tags)) {
      if (k === "kakunin:purpose") continue;
      tags.push({ TagKey: k, TagValue: v });
    }

    const policyKnown = this.accountId !== undefined;
    const created = await this.call("CreateKey", (signal) =>
      this.client.send(
        new CreateKeyCommand({
          KeySpec: opts.keySpec ?? "RSA_2048",
          KeyUsage: "SIGN_VERIFY",
          Origin: "AWS_KMS",
          Description: opts.description,
          Tags: tags,
          ...(policyKnown
            ? {
                Policy: this.policyFor(opts.purpose),
                // The policy deliberately denies the creating role PutKeyPolicy; the account root keeps
                // administration, so the key cannot become unmanageable.
                BypassPolicyLockoutSafetyCheck: true,
              }
            : {}),
        }),
        { abortSignal: signal },
      ),
    );
    const arn = created.KeyMetadata?.Arn;
    if (!arn) throw new KmsFailureError("InvalidResponse", "KMS CreateKey returned no key ARN");

    try {
      const parsed = parseKeyArn(arn);
      if (!parsed) throw new KmsFailureError("InvalidResponse", `KMS CreateKey returned an unexpected ARN: ${arn}`);
      assertRegionAllowed(parsed.region, this.allowedRegions);
      if (!policyKnown) {
        this.accountId = parsed.accountId;
        await this.call("PutKeyPolicy", (signal) =>
          this.client.send(
            new PutKeyPolicyCommand({
              KeyId: arn,
              PolicyName: "default",
              Policy: this.policyFor(opts.purpose),
              BypassPolicyLockoutSafetyCheck: true,
            }),
            { abortSignal: signal },
          ),
        );
      }
      if (opts.alias !== undefined) {
        const alias = opts.alias;
        try {
          await this.call("CreateAlias", (signal) =>
            this.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn }), { abortSignal: signal }),
          );
        } catch (err) {
          if (err instanceof KmsFailureError && err.awsCode === "AlreadyExistsException") {
            // Lost a race: someone else created the aliased key. Keep theirs, retire ours.
            const existing = await this.findKeyByAlias(alias);
            if (existing === undefined) throw err;
            await this.disableKey(arn).catch(() => undefined);
            return { arn: existing };
          }
          throw err;
        }
      }
    } catch (err) {
      // Invariant 6: no orphan enabled key. Best effort; the original error wins.
      await this.disableKey(arn).catch(() => undefined);
      throw err;
    }
    return { arn };
  }

  /** DER SubjectPublicKeyInfo of the key. */
  async getPublicKey(arn: string): Promise<Uint8Array> {
    const out = await this.call("GetPublicKey", (signal) =>
      this.client.send(new GetPublicKeyCommand({ KeyId: arn }), { abortSignal: signal }),
    );
    if (!out.PublicKey || out.PublicKey.length === 0)
      throw new KmsFailureError("InvalidResponse", "KMS GetPublicKey returned no public key");
    return new Uint8Array(out.PublicKey);
  }

  /** Signs a precomputed SHA-256 digest (MessageType=DIGEST) inside KMS. */
  async signDigest(arn: string, digest: Uint8Array, alg: SigningAlgorithm): Promise<Uint8Array> {
    const { signature, requestId } = await this.signDigestWithRequestId(arn, digest, alg);
    // Signatures made outside the log's entry path (certificates, CRLs, checkpoints) are noted
    // here, so reconciliation knows them as Kakunin's; entries carry their request id themselves.
    if (requestId !== undefined) this.onSigned?.(arn, requestId);
    return signature;
  }

  /**
   * Who hears of each Sign made through `signDigest` (key ARN and KMS request id): monitoring
   * records them (server/monitoring/db-recorded-signatures.ts). Must not throw or block.
   */
  onSigned: ((arn: string, requestId: string) => void) | undefined;

  /** Sign, with the KMS request id (`x-amzn-RequestId`; what CloudTrail records as `requestID`). */
  async signDigestWithRequestId(
    arn: string,
    digest: Uint8Array,
    alg: SigningAlgorithm,
  ): Promise<{ signature: Uint8Array; requestId: string | undefined }> {
    if (alg !== "RSASSA_PSS_SHA_256" && alg !== "RSASSA_PKCS1_V1_5_SHA_256")
      throw new Error(`Unsupported signing algorithm: ${String(alg)}`);
    if (digest.length !== 32) throw new Error(`A SHA-256 digest is 32 bytes, got ${digest.length}`);
    if (this.signClient) {
      const client = this.signClient;
      return this.call("Sign", (signal) => client.sign({ keyId: arn, digest, algorithm: alg }, signal));
    }
    const out = await this.call("Sign", (signal) =>
      this.client.send(new SignCommand({ KeyId: arn, Message: digest, MessageType: "DIGEST", SigningAlgorithm: alg }), {
        abortSignal: signal,
      }),
    );
    if (!out.Signature || out.Signature.length === 0)
      throw new KmsFailureError("InvalidResponse", "KMS Sign returned no signature");
    return { signature: new Uint8Array(out.Signature), requestId: out.$metadata.requestId };
  }

  /**
   * Signs `message` itself with an Ed25519 key (ED25519_SHA_512, MessageType=RAW: Ed25519 hashes
   * internally; KMS takes RAW messages of at most 4096 bytes).
   */
  async signEd25519(arn: string, message: Uint8Array): Promise<Uint8Array> {
    if (message.length === 0 || message.length > 4096)
      throw new Error(`KMS signs RAW messages of 1 to 4096 bytes, got ${message.length}`);
    const out = await this.call("Sign", (signal) =>
      this.client.send(
        new SignCommand({ KeyId: arn, Message: message, MessageType: "RAW", SigningAlgorithm: "ED25519_SHA_512" }),
        { abortSignal: signal },
      ),
    );
    if (!out.Signature || out.Signature.length !== 64)
      throw new KmsFailureError("InvalidResponse", "KMS Sign returned no Ed25519 signature");
    // Checkpoint notes are Kakunin's own signatures too: reconciliation must know them.
    if (out.$metadata.requestId !== undefined) this.onSigned?.(arn, out.$metadata.requestId);
    return new Uint8Array(out.Signature);
  }

  /** Disables the key. Idempotent: an already disabled key is fine. Never deletes. */
  async disableKey(arn: string): Promise<void> {
    await this.call("DisableKey", (signal) =>
      this.client.send(new DisableKeyCommand({ KeyId: arn }), { abortSignal: signal }),
    );
  }

  /** Points an existing alias at another key (log key rotation); the old key keeps working until it is disabled. */
  async updateAlias(alias: string, arn: string): Promise<void> {
    if (!ALIAS_RE.test(alias)) throw new Error(`Invalid KMS alias: ${alias}`);
    await this.call("UpdateAlias", (signal) =>
      this.client.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: arn }), { abortSignal: signal }),
    );
  }

  async describeKey(arn: string): Promise<KeyDescription> {
    const out = await this.call("DescribeKey", (signal) =>
      this.client.send(new DescribeKeyCommand({ KeyId: arn }), { abortSignal: signal }),
    );
    const meta = out.KeyMetadata;
    if (!meta?.Arn) throw new KmsFailureError("InvalidResponse", "KMS DescribeKey returned no metadata");
    return { arn: meta.Arn, state: meta.KeyState ?? "Unknown", enabled: meta.Enabled === true };
  }

  /** The ARN of the key the alias points to, or undefined if the alias does not exist. */
  async findKeyByAlias(alias: string): Promise<string | undefined> {
    if (!ALIAS_RE.test(alias)) throw new Error(`Invalid KMS alias: ${alias}`);
    try {
      const d = await this.describeKey(alias);
      this.learnAccount(d.arn);
      return d.arn;
    } catch (err) {
      if (err instanceof KmsNotFoundError) return undefined;
      throw err;
    }
  }

  /** ARNs of keys carrying tag key=value (ListKeys + ListResourceTags). Keys that vanish mid-scan are skipped. */
  async findKeysByTag(key: string, value: string): Promise<string[]> {
    const found: string[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call("ListKeys", (signal) =>
        this.client.send(new ListKeysCommand({ Limit: 1000, ...(marker ? { Marker: marker } : {}) }), {
          abortSignal: signal,
        }),
      );
      for (const k of page.Keys ?? []) {
        const id = k.KeyArn ?? k.KeyId;
        if (!id) continue;
        if (await this.hasTag(id, key, value)) found.push(k.KeyArn ?? id);
      }
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    return found;
  }

  private async hasTag(keyId: string, key: string, value: string): Promise<boolean> {
    let marker: string | undefined;
    do {
      let page;
      try {
        page = await this.call("ListResourceTags", (signal) =>
          this.client.send(
            new ListResourceTagsCommand({ KeyId: keyId, Limit: 50, ...(marker ? { Marker: marker } : {}) }),
            { abortSignal: signal },
          ),
        );
      } catch (err) {
        if (err instanceof KmsNotFoundError) return false;
        if (err instanceof KmsFailureError && err.awsCode === "AccessDeniedException") return false; // keys we may not read are not ours
        throw err;
      }
      if ((page.Tags ?? []).some((t) => t.TagKey === key && t.TagValue === value)) return true;
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    return false;
  }

  private policyFor(purpose: KeyPurpose): string {
    const accountId = this.accountId!;
    const serviceRoleArn = this.serviceRoleArnOption ?? `arn:aws:iam::${accountId}:role/kakunin-service`;
    return this.keyPolicy({ accountId, serviceRoleArn, purpose, region: this.region });
  }

  private learnAccount(arn: string): void {
    if (this.accountId === undefined) this.accountId = parseKeyArn(arn)?.accountId;
  }

  private async assertRegions(): Promise<void> {
    assertRegionAllowed(this.region, this.allowedRegions);
    const clientRegion = await this.client.config.region();
    if (clientRegion !== this.region) assertRegionAllowed(clientRegion, this.allowedRegions);
  }

  private async call<T>(operation: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      const ms =
        operation === "CreateKey" ? Math.max(this.callTimeoutMs, CREATE_KEY_MIN_TIMEOUT_MS) : this.callTimeoutMs;
      const value = await withDeadline(operation, ms, fn);
      this.health.answered();
      return value;
    } catch (err) {
      const mapped = mapKmsError(err, operation);
      if (mapped instanceof KmsUnavailableError) this.health.unavailable(mapped.message);
      else this.health.answered(); // a deterministic refusal: KMS is up
      throw mapped;
    }
  }
}
