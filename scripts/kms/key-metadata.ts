import { KEY_SPECS, RSA_ENCRYPTION_ALGORITHMS } from "./key-specs.js";
import type { StoredKey } from "./key-store.js";

/** KeyMetadata exactly as DescribeKey/CreateKey return it (timestamps as epoch seconds). */
export function keyMetadata(key: StoredKey, account: string): Record<string, unknown> {
  const { meta } = key;
  return {
    AWSAccountId: account,
    KeyId: meta.keyId,
    Arn: key.arn,
    CreationDate: meta.creationDate,
    Enabled: meta.state === "Enabled",
    Description: meta.description,
    KeyUsage: meta.keyUsage,
    KeyState: meta.state,
    ...(meta.deletionDate !== undefined ? { DeletionDate: meta.deletionDate } : {}),
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: meta.keySpec,
    KeySpec: meta.keySpec,
    ...algorithmsOf(key),
    MultiRegion: false,
  };
}

/** SigningAlgorithms for signing keys, EncryptionAlgorithms for encryption keys. */
export function algorithmsOf(key: StoredKey): Record<string, string[]> {
  return key.meta.keyUsage === "SIGN_VERIFY"
    ? { SigningAlgorithms: [...KEY_SPECS[key.meta.keySpec].signingAlgorithms] }
    : { EncryptionAlgorithms: [...RSA_ENCRYPTION_ALGORITHMS] };
}
