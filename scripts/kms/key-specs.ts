/** Key specs and signing algorithms the local KMS supports, with their parameters. */
export type KeySpec = "RSA_2048" | "RSA_3072" | "RSA_4096" | "ECC_NIST_P256" | "ECC_NIST_EDWARDS25519";
export type KeyUsage = "SIGN_VERIFY" | "ENCRYPT_DECRYPT";
export type HashName = "sha256" | "sha384" | "sha512";
export type SigningAlgorithm =
  | "RSASSA_PSS_SHA_256"
  | "RSASSA_PSS_SHA_384"
  | "RSASSA_PSS_SHA_512"
  | "RSASSA_PKCS1_V1_5_SHA_256"
  | "RSASSA_PKCS1_V1_5_SHA_384"
  | "RSASSA_PKCS1_V1_5_SHA_512"
  | "ECDSA_SHA_256"
  | "ED25519_SHA_512"
  | "ED25519_PH_SHA_512";

export type SignatureScheme = "pss" | "pkcs1" | "ecdsa" | "ed25519" | "ed25519ph";

export interface AlgorithmInfo {
  scheme: SignatureScheme;
  hash: HashName;
  /** Digest length in bytes; also the PSS salt length (as in real KMS). */
  digestLength: number;
}

export const SIGNING_ALGORITHMS: Record<SigningAlgorithm, AlgorithmInfo> = {
  RSASSA_PSS_SHA_256: { scheme: "pss", hash: "sha256", digestLength: 32 },
  RSASSA_PSS_SHA_384: { scheme: "pss", hash: "sha384", digestLength: 48 },
  RSASSA_PSS_SHA_512: { scheme: "pss", hash: "sha512", digestLength: 64 },
  RSASSA_PKCS1_V1_5_SHA_256: { scheme: "pkcs1", hash: "sha256", digestLength: 32 },
  RSASSA_PKCS1_V1_5_SHA_384: { scheme: "pkcs1", hash: "sha384", digestLength: 48 },
  RSASSA_PKCS1_V1_5_SHA_512: { scheme: "pkcs1", hash: "sha512", digestLength: 64 },
  ECDSA_SHA_256: { scheme: "ecdsa", hash: "sha256", digestLength: 32 },
  // Pure Ed25519 (RFC 8032): SHA-512 is inside the algorithm; KMS accepts only MessageType RAW.
  ED25519_SHA_512: { scheme: "ed25519", hash: "sha512", digestLength: 64 },
  // Ed25519ph: KMS accepts only MessageType DIGEST (a 64-byte SHA-512 digest).
  ED25519_PH_SHA_512: { scheme: "ed25519ph", hash: "sha512", digestLength: 64 },
};

/** The one MessageType each Ed25519 algorithm accepts (AWS: "cannot be used interchangeably"). */
export const REQUIRED_MESSAGE_TYPE: Partial<Record<SigningAlgorithm, "RAW" | "DIGEST">> = {
  ED25519_SHA_512: "RAW",
  ED25519_PH_SHA_512: "DIGEST",
};

const RSA_SIGNING: SigningAlgorithm[] = [
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
];

export interface KeySpecInfo {
  kind: "rsa" | "ec" | "ed25519";
  modulusLength?: number;
  signingAlgorithms: SigningAlgorithm[];
  /** KeyUsage values real KMS allows for this spec (ENCRYPT_DECRYPT keys exist but cannot sign here). */
  usages: KeyUsage[];
}

export const KEY_SPECS: Record<KeySpec, KeySpecInfo> = {
  RSA_2048: {
    kind: "rsa",
    modulusLength: 2048,
    signingAlgorithms: RSA_SIGNING,
    usages: ["SIGN_VERIFY", "ENCRYPT_DECRYPT"],
  },
  RSA_3072: {
    kind: "rsa",
    modulusLength: 3072,
    signingAlgorithms: RSA_SIGNING,
    usages: ["SIGN_VERIFY", "ENCRYPT_DECRYPT"],
  },
  RSA_4096: {
    kind: "rsa",
    modulusLength: 4096,
    signingAlgorithms: RSA_SIGNING,
    usages: ["SIGN_VERIFY", "ENCRYPT_DECRYPT"],
  },
  ECC_NIST_P256: { kind: "ec", signingAlgorithms: ["ECDSA_SHA_256"], usages: ["SIGN_VERIFY"] },
  ECC_NIST_EDWARDS25519: {
    kind: "ed25519",
    signingAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    usages: ["SIGN_VERIFY"],
  },
};

export const RSA_ENCRYPTION_ALGORITHMS = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"];

export function isKeySpec(v: unknown): v is KeySpec {
  return typeof v === "string" && Object.hasOwn(KEY_SPECS, v);
}

export function isSigningAlgorithm(v: unknown): v is SigningAlgorithm {
  return typeof v === "string" && Object.hasOwn(SIGNING_ALGORITHMS, v);
}
