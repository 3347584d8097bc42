import { disabled, invalidState, notFound } from "./errors.js";
import { KeyStore, type StoredKey } from "./key-store.js";

/**
 * Turns a KeyId parameter into a key. KMS accepts a key id or key ARN everywhere, and
 * additionally an alias name or alias ARN for DescribeKey, GetPublicKey, Sign, Verify (and
 * other cryptographic operations); management operations reject aliases.
 */
const KEY_ARN_RE = /^arn:aws:kms:([^:]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN_RE = /^arn:aws:kms:([^:]+):(\d{12}):(alias\/.+)$/;

export function resolveKey(store: KeyStore, keyIdParam: string, options: { allowAlias: boolean }): StoredKey {
  const keyArn = KEY_ARN_RE.exec(keyIdParam);
  if (keyArn) {
    const [, region, account, keyId] = keyArn;
    if (region !== store.region || account !== store.account) throw notFound(`Invalid arn ${keyIdParam}`);
    return byKeyId(store, keyId!);
  }
  if (KeyStore.isKeyId(keyIdParam)) return byKeyId(store, keyIdParam);

  if (options.allowAlias) {
    let aliasName: string | undefined;
    const aliasArn = ALIAS_ARN_RE.exec(keyIdParam);
    if (aliasArn) {
      if (aliasArn[1] !== store.region || aliasArn[2] !== store.account) throw notFound(`Invalid arn ${keyIdParam}`);
      aliasName = aliasArn[3];
    } else if (keyIdParam.startsWith("alias/")) {
      aliasName = keyIdParam;
    }
    if (aliasName !== undefined) {
      const alias = store.getAlias(aliasName);
      if (!alias) throw notFound(`Alias ${store.aliasArn(aliasName)} is not found.`);
      return byKeyId(store, alias.targetKeyId);
    }
  }
  throw notFound(`Invalid keyId ${keyIdParam}`);
}

function byKeyId(store: KeyStore, keyId: string): StoredKey {
  const key = store.get(keyId);
  if (!key) throw notFound(`Key '${store.keyArn(keyId)}' does not exist`);
  return key;
}

/** Sign, Verify and GetPublicKey need an Enabled key. */
export function requireEnabled(key: StoredKey): void {
  if (key.meta.state === "Disabled") throw disabled(key.arn);
  requireNotPendingDeletion(key);
}

export function requireNotPendingDeletion(key: StoredKey): void {
  if (key.meta.state === "PendingDeletion") throw invalidState(`${key.arn} is pending deletion.`);
}
