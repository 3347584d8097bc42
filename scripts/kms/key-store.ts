import { createPrivateKey, createPublicKey, generateKeyPair, randomUUID } from "node:crypto";
import { chmod, mkdir, readFile, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { WriteQueue } from "./atomic-file.js";
import { KEY_SPECS, type KeySpec, type KeyUsage } from "./key-specs.js";

/**
 * Keys and aliases, held in memory and persisted in the data dir:
 *   keys/<uuid>.key   PKCS#8 DER private key (0600, written once)
 *   keys/<uuid>.json  metadata: state, tags, policy, dates (0600)
 *   aliases.json      alias name -> key id
 * Key material never leaves this process except to its own worker threads.
 */
export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

export interface Tag {
  TagKey: string;
  TagValue: string;
}

export interface KeyMetadataRecord {
  keyId: string;
  creationDate: number; // epoch seconds
  state: KeyState;
  description: string;
  keySpec: KeySpec;
  keyUsage: KeyUsage;
  policy: string;
  tags: Tag[];
  deletionDate?: number; // epoch seconds
}

export interface StoredKey {
  meta: KeyMetadataRecord;
  arn: string;
  privateKeyDer: Buffer;
  publicKeyDer: Buffer; // DER SubjectPublicKeyInfo, as GetPublicKey returns it
}

export interface AliasRecord {
  aliasName: string;
  targetKeyId: string;
  creationDate: number;
  lastUpdatedDate: number;
}

const generateKeyPairAsync = promisify(generateKeyPair);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const nowSeconds = () => Date.now() / 1000;

export function defaultKeyPolicy(account: string): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Id: "key-default-1",
      Statement: [
        {
          Sid: "Enable IAM User Permissions",
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${account}:root` },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    },
    null,
    2,
  );
}

export class KeyStore {
  private readonly keys = new Map<string, StoredKey>();
  private readonly aliases = new Map<string, AliasRecord>();
  /** Keys in PendingDeletion (tracked by load() and saveMeta()): purging runs on every lookup and need not walk every key. */
  private readonly pendingDeletion = new Set<StoredKey>();
  private readonly writes = new WriteQueue();
  private readonly keysDir: string;
  private readonly aliasesFile: string;
  /** Called when a key is finally deleted (its waiting period is over). */
  onKeyDeleted: (keyId: string) => void = () => {};

  private constructor(
    readonly dataDir: string,
    readonly region: string,
    readonly account: string,
  ) {
    this.keysDir = join(dataDir, "keys");
    this.aliasesFile = join(dataDir, "aliases.json");
  }

  static async open(dataDir: string, region: string, account: string): Promise<KeyStore> {
    const store = new KeyStore(dataDir, region, account);
    await store.load();
    return store;
  }

  keyArn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.account}:key/${keyId}`;
  }

  aliasArn(aliasName: string): string {
    return `arn:aws:kms:${this.region}:${this.account}:${aliasName}`;
  }

  static isKeyId(value: string): boolean {
    return UUID_RE.test(value);
  }

  get(keyId: string): StoredKey | undefined {
    this.purgeExpired();
    return this.keys.get(keyId);
  }

  /** All keys, ordered by key id so that paging markers are stable. */
  list(): StoredKey[] {
    this.purgeExpired();
    return [...this.keys.values()].sort((a, b) => a.meta.keyId.localeCompare(b.meta.keyId));
  }

  async create(input: {
    keySpec: KeySpec;
    keyUsage: KeyUsage;
    description: string;
    policy: string | undefined;
    tags: Tag[];
  }): Promise<StoredKey> {
    const spec = KEY_SPECS[input.keySpec];
    // Async generation runs on libuv's thread pool: RSA-4096 can take seconds.
    const { privateKey } =
      spec.kind === "rsa"
        ? await generateKeyPairAsync("rsa", { modulusLength: spec.modulusLength! })
        : spec.kind === "ed25519"
          ? await generateKeyPairAsync("ed25519")
          : await generateKeyPairAsync("ec", { namedCurve: "P-256" });
    const keyId = randomUUID();
    const key: StoredKey = {
      meta: {
        keyId,
        creationDate: nowSeconds(),
        state: "Enabled",
        description: input.description,
        keySpec: input.keySpec,
        keyUsage: input.keyUsage,
        policy: input.policy ?? defaultKeyPolicy(this.account),
        tags: input.tags,
      },
      arn: this.keyArn(keyId),
      privateKeyDer: privateKey.export({ format: "der", type: "pkcs8" }),
      publicKeyDer: createPublicKey(privateKey).export({ format: "der", type: "spki" }),
    };
    // Material first: a metadata file never points at missing material.
    await this.writes.write(this.materialPath(keyId), () => key.privateKeyDer);
    this.keys.set(keyId, key);
    await this.saveMeta(key);
    return key;
  }

  /** Persists the key's current metadata (call after mutating `key.meta`). */
  saveMeta(key: StoredKey): Promise<void> {
    this.trackDeletion(key);
    return this.writes.write(this.metaPath(key.meta.keyId), () => JSON.stringify(key.meta, null, 2));
  }

  getAlias(aliasName: string): AliasRecord | undefined {
    this.purgeExpired();
    return this.aliases.get(aliasName);
  }

  listAliases(): AliasRecord[] {
    this.purgeExpired();
    return [...this.aliases.values()].sort((a, b) => a.aliasName.localeCompare(b.aliasName));
  }

  async putAlias(alias: AliasRecord): Promise<void> {
    this.aliases.set(alias.aliasName, alias);
    await this.saveAliases();
  }

  async flush(): Promise<void> {
    await this.writes.drain();
  }

  private saveAliases(): Promise<void> {
    return this.writes.write(this.aliasesFile, () => JSON.stringify([...this.aliases.values()], null, 2));
  }

  private materialPath(keyId: string) {
    return join(this.keysDir, `${keyId}.key`);
  }

  private metaPath(keyId: string) {
    return join(this.keysDir, `${keyId}.json`);
  }

  private trackDeletion(key: StoredKey): void {
    if (key.meta.state === "PendingDeletion") this.pendingDeletion.add(key);
    else this.pendingDeletion.delete(key);
  }

  /** Keys whose deletion date has passed are gone for good, as in KMS. */
  private purgeExpired(): void {
    if (this.pendingDeletion.size === 0) return;
    const now = nowSeconds();
    for (const key of this.pendingDeletion) {
      if (key.meta.state !== "PendingDeletion") {
        this.pendingDeletion.delete(key);
        continue;
      }
      if (key.meta.deletionDate === undefined || key.meta.deletionDate > now) continue;
      this.pendingDeletion.delete(key);
      const keyId = key.meta.keyId;
      this.keys.delete(keyId);
      let aliasesChanged = false;
      for (const [name, alias] of this.aliases) {
        if (alias.targetKeyId === keyId) {
          this.aliases.delete(name);
          aliasesChanged = true;
        }
      }
      if (aliasesChanged)
        void this.saveAliases().catch((err) => console.error("local KMS: saving aliases failed", err));
      void unlink(this.metaPath(keyId)).catch(() => {});
      void unlink(this.materialPath(keyId)).catch(() => {});
      this.onKeyDeleted(keyId);
    }
  }

  private async load(): Promise<void> {
    await mkdir(this.keysDir, { recursive: true, mode: 0o700 });
    // mkdir's mode does not apply to pre-existing dirs: tighten them explicitly.
    await chmod(this.dataDir, 0o700);
    await chmod(this.keysDir, 0o700);
    for (const name of await readdir(this.keysDir)) {
      const match = /^([0-9a-f-]{36})\.json$/.exec(name);
      if (!match || !KeyStore.isKeyId(match[1]!)) continue;
      const keyId = match[1]!;
      const meta = JSON.parse(await readFile(this.metaPath(keyId), "utf8")) as KeyMetadataRecord;
      const privateKeyDer = await readFile(this.materialPath(keyId));
      const privateKey = createPrivateKey({ key: privateKeyDer, format: "der", type: "pkcs8" });
      const key: StoredKey = {
        meta,
        arn: this.keyArn(keyId),
        privateKeyDer,
        publicKeyDer: createPublicKey(privateKey).export({ format: "der", type: "spki" }),
      };
      this.keys.set(keyId, key);
      this.trackDeletion(key);
    }
    try {
      const aliases = JSON.parse(await readFile(this.aliasesFile, "utf8")) as AliasRecord[];
      for (const alias of aliases) this.aliases.set(alias.aliasName, alias);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
}
