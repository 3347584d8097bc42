import "reflect-metadata";
import { generateKeyPairSync, privateEncrypt, constants, type KeyObject } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { Responder } from "../../../scripts/tsa/responder.js";

/**
 * In-process keys and certificates for the pure tests of the responder and client (the KMS path is
 * covered by the integration suite). Generated per run; nothing is committed.
 */
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const DIGEST_INFO_SHA256 = Buffer.from("3031300d060960864801650304020105000420", "hex");

export interface TestKey {
  node: KeyObject;
  priv: CryptoKey;
  pub: CryptoKey;
}

export async function rsaKey(): Promise<TestKey> {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  const priv = await crypto.subtle.importKey("pkcs8", pkcs8, RSA, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", priv);
  const pub = await crypto.subtle.importKey(
    "jwk",
    { kty: "RSA", n: jwk.n!, e: jwk.e!, alg: "RS256", ext: true },
    RSA,
    true,
    ["verify"],
  );
  return { node: privateKey, priv, pub };
}

/** RSASSA-PKCS1-v1_5 over a precomputed SHA-256 digest (what KMS MessageType=DIGEST does). */
export function signDigestWith(key: TestKey) {
  return async (digest: Uint8Array) =>
    new Uint8Array(
      privateEncrypt(
        { key: key.node, padding: constants.RSA_PKCS1_PADDING },
        Buffer.concat([DIGEST_INFO_SHA256, digest]),
      ),
    );
}

export interface CertOptions {
  ekuCritical?: boolean;
  ekus?: string[] | null;
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  serial?: string;
}

export async function issue(
  subject: string,
  key: TestKey,
  issuer: { name: string; key: TestKey },
  o: CertOptions = {},
): Promise<x509.X509Certificate> {
  const extensions: x509.Extension[] = [];
  if (o.ca) {
    extensions.push(
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    );
  } else {
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
    if (o.ekus !== null)
      extensions.push(
        new x509.ExtendedKeyUsageExtension(o.ekus ?? [x509.ExtendedKeyUsage.timeStamping], o.ekuCritical ?? true),
      );
  }
  return x509.X509CertificateGenerator.create({
    serialNumber:
      o.serial ??
      "01" +
        Math.floor(Math.random() * 1e9)
          .toString(16)
          .padStart(8, "0"),
    subject,
    issuer: issuer.name,
    notBefore: o.notBefore ?? new Date("2026-01-01T00:00:00Z"),
    notAfter: o.notAfter ?? new Date("2027-01-01T00:00:00Z"),
    signingAlgorithm: RSA,
    publicKey: key.pub,
    signingKey: issuer.key.priv,
    extensions,
  });
}

export const GEN_TIME = new Date("2026-06-01T12:00:00.750Z");

export interface TestTsa {
  caKey: TestKey;
  tsaKey: TestKey;
  ca: x509.X509Certificate;
  tsa: x509.X509Certificate;
  responder: Responder;
}

export async function testTsa(o: CertOptions = {}, now = () => GEN_TIME): Promise<TestTsa> {
  const [caKey, tsaKey] = [await rsaKey(), await rsaKey()];
  const caName = "CN=Unit TSA CA";
  const ca = await issue(caName, caKey, { name: caName, key: caKey }, { ca: true });
  const tsa = await issue("CN=Unit TSA", tsaKey, { name: caName, key: caKey }, o);
  const responder = new Responder({
    certificate: new Uint8Array(tsa.rawData),
    policy: "1.2.3.4.5",
    signDigest: signDigestWith(tsaKey),
    now,
    accuracySeconds: 1,
  });
  return { caKey, tsaKey, ca, tsa, responder };
}
