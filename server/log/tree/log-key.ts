/**
 * The log v2 checkpoint key: one Ed25519 key in KMS (ECC_NIST_EDWARDS25519, purpose `tlog`) signs
 * every issuer's checkpoints; each issuer's log has its own origin `<KAKUNIN_LOG_NAME>/<issuer id>`,
 * which is also the signed-note key name (tlog-checkpoint: "the key name SHOULD be the origin"), so
 * each issuer's verifier key carries its own key ID.
 */
import { formatVerifierKey, isValidKeyName } from "../../../verifier/src/formats/index.js";

/** The KMS key that signs checkpoints: its ARN and raw 32-byte Ed25519 public key. */
export interface CheckpointKey {
  arn: string;
  publicKey: Uint8Array;
}

/**
 * Where the log finds its checkpoint keys. Both are read from the database on every call, so a
 * rotation made by another instance (server/authority/rotate-log-key.ts) is picked up at the next
 * publication round without a restart.
 */
export interface CheckpointKeys {
  /** The key that signs new checkpoints. */
  current(): Promise<CheckpointKey>;
  /** Every key whose checkpoints still verify: the current key first, then the older (disabled) ones, newest first. */
  all(): Promise<CheckpointKey[]>;
}

/** A fixed key (tests, tools): never rotates. */
export function fixedCheckpointKeys(key: CheckpointKey): CheckpointKeys {
  return { current: async () => key, all: async () => [key] };
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (32 bytes) }. */
const ED25519_SPKI_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00);

/** The raw public key of an Ed25519 SPKI (what KMS GetPublicKey returns); throws on anything else. */
export function ed25519PublicKeyFromSpki(spki: Uint8Array): Uint8Array {
  if (spki.length !== ED25519_SPKI_PREFIX.length + 32 || ED25519_SPKI_PREFIX.some((b, i) => spki[i] !== b)) {
    throw new Error("not an Ed25519 SubjectPublicKeyInfo (RFC 8410)");
  }
  return spki.slice(ED25519_SPKI_PREFIX.length);
}

/**
 * KAKUNIN_LOG_NAME's default: KAKUNIN_PUBLIC_URL without its scheme (host, and path if any), as
 * tlog-checkpoint asks of origins ("schema-less URL"). Throws if the name cannot be a key name.
 */
export function logNameFrom(explicit: string | undefined, publicUrl: string): string {
  let name = explicit;
  if (!name) {
    const u = new URL(publicUrl);
    name = `${u.host}${u.pathname}`.replace(/\/+$/, "");
  }
  if (!isValidKeyName(name) || name.endsWith("/"))
    throw new Error(
      `KAKUNIN_LOG_NAME ${JSON.stringify(name)} is not a valid log origin (no spaces, no '+', no trailing '/')`,
    );
  return name;
}

/** The origin line of `issuerId`'s checkpoints. */
export function logOrigin(logName: string, issuerId: string): string {
  return `${logName}/${issuerId}`;
}

/** `<origin>+<hex key id>+<base64(0x01 ‖ key)>`: what a verifier pins for `issuerId`'s log. */
export function checkpointVerifierKey(logName: string, issuerId: string, key: CheckpointKey): Promise<string> {
  return formatVerifierKey(logOrigin(logName, issuerId), key.publicKey);
}
