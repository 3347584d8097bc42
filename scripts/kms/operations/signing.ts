import type { MessageType } from "../crypto/sign.js";
import { invalidKeyUsage, invalidSignature, KmsError, validation } from "../errors.js";
import {
  REQUIRED_MESSAGE_TYPE,
  SIGNING_ALGORITHMS,
  isSigningAlgorithm,
  KEY_SPECS,
  type SigningAlgorithm,
} from "../key-specs.js";
import { algorithmsOf } from "../key-metadata.js";
import type { StoredKey } from "../key-store.js";
import type { Input } from "../input.js";
import { requireEnabled } from "../resolve-key.js";
import { keyFromInput, type Operation } from "./context.js";

/** Every algorithm name KMS knows; ones this key cannot use are InvalidKeyUsageException, others ValidationException. */
const KMS_SIGNING_ALGORITHMS = [
  ...Object.keys(SIGNING_ALGORITHMS),
  "ECDSA_SHA_384",
  "ECDSA_SHA_512",
  "SM2DSA",
  "ML_DSA_SHAKE_256",
] as const;
const MAX_MESSAGE_BYTES = 4096;
const MAX_SIGNATURE_BYTES = 6144;

export const getPublicKey: Operation = async (input, ctx) => {
  const key = keyFromInput(input, ctx, { allowAlias: true });
  requireEnabled(key);
  return {
    KeyId: key.arn,
    PublicKey: key.publicKeyDer.toString("base64"),
    CustomerMasterKeySpec: key.meta.keySpec,
    KeySpec: key.meta.keySpec,
    KeyUsage: key.meta.keyUsage,
    ...algorithmsOf(key),
  };
};

interface SigningRequest {
  key: StoredKey;
  algorithm: SigningAlgorithm;
  messageType: MessageType;
  message: Buffer;
}

/** Shared validation for Sign and Verify, in the order KMS applies it. */
function signingRequest(input: Input, ctx: Parameters<Operation>[1]): SigningRequest {
  const message = input.blob("Message", MAX_MESSAGE_BYTES);
  const messageType = input.optionalEnum("MessageType", ["RAW", "DIGEST", "EXTERNAL_MU"] as const) ?? "RAW";
  const algorithmName = input.enum("SigningAlgorithm", KMS_SIGNING_ALGORITHMS);
  const key = keyFromInput(input, ctx, { allowAlias: true });
  requireEnabled(key);
  if (key.meta.keyUsage !== "SIGN_VERIFY") {
    throw invalidKeyUsage(`${key.arn} key usage is ${key.meta.keyUsage} which is not valid for signing.`);
  }
  if (!isSigningAlgorithm(algorithmName) || !KEY_SPECS[key.meta.keySpec].signingAlgorithms.includes(algorithmName)) {
    throw invalidKeyUsage(`The signing algorithm ${algorithmName} is not valid for ${key.arn}.`);
  }
  if (messageType === "EXTERNAL_MU") throw invalidKeyUsage(`MessageType EXTERNAL_MU is not valid for ${key.arn}.`);
  const required = REQUIRED_MESSAGE_TYPE[algorithmName];
  if (required !== undefined && messageType !== required) {
    throw validation(`The signing algorithm ${algorithmName} requires MessageType ${required}.`);
  }
  if (messageType === "DIGEST" && message.length !== SIGNING_ALGORITHMS[algorithmName].digestLength) {
    throw validation(`Digest is invalid length for algorithm ${algorithmName}.`);
  }
  if (input.optionalBoolean("DryRun")) {
    throw new KmsError("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.");
  }
  return { key, algorithm: algorithmName, messageType, message };
}

export const sign: Operation = async (input, ctx) => {
  const { key, algorithm, messageType, message } = signingRequest(input, ctx);
  const signature = await ctx.pool.sign({
    keyId: key.meta.keyId,
    privateKeyDer: key.privateKeyDer,
    algorithm,
    messageType,
    message,
  });
  return { KeyId: key.arn, Signature: signature, SigningAlgorithm: algorithm };
};

export const verify: Operation = async (input, ctx) => {
  const signature = input.blob("Signature", MAX_SIGNATURE_BYTES);
  const { key, algorithm, messageType, message } = signingRequest(input, ctx);
  const valid = await ctx.pool.verify({
    keyId: key.meta.keyId,
    privateKeyDer: key.privateKeyDer,
    algorithm,
    messageType,
    message,
    signature,
  });
  if (!valid) throw invalidSignature();
  return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: algorithm };
};
