/**
 * The certificate authority. Its private key lives in KMS: every certificate and CRL is assembled
 * here, its TBS bytes hashed locally and signed by KMS (RSASSA_PKCS1_V1_5_SHA_256, MessageType=DIGEST).
 * Before anything is returned, the signature is verified against the CA public key and the certified
 * public key is compared with the one the caller got from KMS GetPublicKey — a cheap guard against a
 * misbehaving HSM or a mix-up of keys.
 */
import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { KakuninError, ValidationError } from "../errors.js";
import type { KeyCustody } from "../kms/custody.js";
import { bytesEqual, toArrayBuffer } from "./bytes.js";
import { crlNumberExtension, crlPem, reasonCode, type RevocationReason } from "./crl.js";
import { createKmsCrypto, kmsSigningKey } from "./kms-crypto.js";
import { pemEncode } from "@kakunin/verifier/formats";
import {
  agentSpiffeId,
  assertAgentId,
  assertIssuerName,
  assertRsaSpki,
  assertTrustDomain,
  CA_SUBJECT,
  CA_VALIDITY_DAYS,
  caExtensions,
  LOG_SIGNER_CN,
  LOG_SIGNER_VALIDITY_DAYS,
  logSpiffeId,
  SIGNING_ALGORITHM,
  signerExtensions,
  subjectName,
  truncateToSecond,
  validityWindow,
} from "./profiles.js";
import { newSerial } from "./serial.js";
import { x509 } from "./x509.js";

export type { RevocationReason } from "./crl.js";
export { REVOCATION_REASONS, isRevocationReason } from "./crl.js";

export interface IssuedCertificate {
  /** lowercase hex */
  serial: string;
  der: Uint8Array;
  pem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface SignedCrl {
  der: Uint8Array;
  /** label "X509 CRL" */
  pem: string;
}

export interface CrlEntryInput {
  serial: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface CertificateAuthorityOptions {
  trustDomain: string;
  /** Absolute URL of the DER CRL, e.g. `${publicUrl}/v1/public/crl`. */
  crlUrl: string;
  agentValidityDays: number;
  /** Default 5 years (capped at the CA's notAfter). */
  logSignerValidityDays?: number;
}

/** The CA's own output failed a self-check (bad KMS signature, wrong key certified, CA expired). Nothing was issued. */
export class CaIntegrityError extends KakuninError {
  constructor(
    code:
      | "ERR_CA_SIGNATURE_INVALID"
      | "ERR_PUBLIC_KEY_MISMATCH"
      | "ERR_CA_EXPIRED"
      | "ERR_CA_NOT_YET_VALID"
      | "ERR_CA_CERTIFICATE_INVALID",
    message: string,
    status = 502,
  ) {
    super(status, code, message);
  }
}

/** AlgorithmIdentifier DER: SEQUENCE { 1.2.840.113549.1.1.11, NULL } */
const SHA256_WITH_RSA_ALG_ID = new Uint8Array(Buffer.from("300d06092a864886f70d01010b0500", "hex"));

function u8(buf: ArrayBuffer): Uint8Array {
  return new Uint8Array(buf);
}

function toIssued(cert: x509.X509Certificate, serial: string): IssuedCertificate {
  const der = u8(cert.rawData);
  return { serial, der, pem: pemEncode(der, "CERTIFICATE"), notBefore: cert.notBefore, notAfter: cert.notAfter };
}

/** Serial, validity, subject and SPKI of a DER certificate. */
export function certificateInfo(der: Uint8Array): {
  serial: string;
  notBefore: Date;
  notAfter: Date;
  subject: string;
  spki: Uint8Array;
} {
  const cert = new x509.X509Certificate(toArrayBuffer(der));
  return {
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    subject: cert.subject,
    spki: u8(cert.publicKey.rawData),
  };
}

/** Lowercase hex SHA-256 of the DER bytes (what verifiers pin). */
export function fingerprintSha256(der: Uint8Array): string {
  return createHash("sha256").update(der).digest("hex");
}

/** Verifies a SIGNED{} structure (certificate or CRL) over its exact TBS bytes with Node (OpenSSL): sha256WithRSAEncryption. */
function signatureVerifies(der: Uint8Array, issuerSpki: Uint8Array): boolean {
  try {
    const { tbs, alg, sig } = splitSigned(der);
    if (!bytesEqual(alg, SHA256_WITH_RSA_ALG_ID)) return false;
    return nodeVerify(
      "sha256",
      tbs,
      createPublicKey({ key: Buffer.from(issuerSpki), format: "der", type: "spki" }),
      sig,
    );
  } catch {
    return false;
  }
}

async function signCertificate(
  crypto: Crypto,
  keyArn: string,
  params: {
    serial: string;
    subject: x509.Name;
    issuer: x509.Name;
    spki: Uint8Array;
    notBefore: Date;
    notAfter: Date;
    extensions: x509.Extension[];
  },
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: params.serial,
      subject: params.subject,
      issuer: params.issuer,
      notBefore: params.notBefore,
      notAfter: params.notAfter,
      publicKey: toArrayBuffer(params.spki),
      signingKey: kmsSigningKey(keyArn, "RSASSA_PKCS1_V1_5_SHA_256"),
      signingAlgorithm: SIGNING_ALGORITHM,
      extensions: params.extensions,
    },
    crypto,
  );
}

function checkIssued(cert: x509.X509Certificate, serial: string, spki: Uint8Array, caSpki: Uint8Array): void {
  if (cert.serialNumber.toLowerCase() !== serial)
    throw new CaIntegrityError("ERR_CA_CERTIFICATE_INVALID", "Issued certificate carries the wrong serial");
  if (!bytesEqual(u8(cert.publicKey.rawData), spki))
    throw new CaIntegrityError(
      "ERR_PUBLIC_KEY_MISMATCH",
      "Issued certificate does not certify the requested public key",
    );
  if (!signatureVerifies(u8(cert.rawData), caSpki)) {
    throw new CaIntegrityError(
      "ERR_CA_SIGNATURE_INVALID",
      "The KMS signature on the certificate does not verify under the CA public key",
    );
  }
}

export class CertificateAuthority {
  readonly keyArn: string;
  readonly certificateDer: Uint8Array;
  readonly certificatePem: string;
  readonly fingerprintSha256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Hex subjectKeyIdentifier of the CA; the authorityKeyIdentifier of everything it issues. */
  readonly keyId: string;
  private readonly cert: x509.X509Certificate;
  private readonly spki: Uint8Array;
  private readonly crypto: Crypto;
  private readonly trustDomain: string;
  private readonly crlUrl: string;
  private readonly agentValidityDays: number;
  private readonly logSignerValidityDays: number;

  /** Creates the self-signed root over the KMS key `keyArn` (CN=Kakunin Root CA, O=Kakunin; 10 years). */
  static async createRoot(
    custody: KeyCustody,
    keyArn: string,
    opts: { subject?: string; validityDays?: number; notBefore?: Date } = {},
  ): Promise<IssuedCertificate> {
    const spki = await custody.getPublicKey(keyArn);
    assertRsaSpki(spki, "caPublicKey");
    const name = new x509.Name(opts.subject ?? CA_SUBJECT);
    const days = opts.validityDays ?? CA_VALIDITY_DAYS;
    if (!Number.isInteger(days) || days < 1)
      throw new ValidationError("validityDays must be a positive integer", { field: "validityDays", status: 422 });
    const { notBefore, notAfter } = validityWindow(opts.notBefore ?? new Date(), days);
    const serial = newSerial();
    const cert = await signCertificate(createKmsCrypto(custody), keyArn, {
      serial,
      subject: name,
      issuer: name,
      spki,
      notBefore,
      notAfter,
      extensions: await caExtensions(spki),
    });
    checkIssued(cert, serial, spki, spki);
    return toIssued(cert, serial);
  }

  constructor(
    private readonly custody: KeyCustody,
    ca: { keyArn: string; certificateDer: Uint8Array },
    opts: CertificateAuthorityOptions,
  ) {
    assertTrustDomain(opts.trustDomain);
    let url: URL;
    try {
      url = new URL(opts.crlUrl);
    } catch {
      throw new Error(`crlUrl is not an absolute URL: ${opts.crlUrl}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
      throw new Error(`crlUrl must be http(s): ${opts.crlUrl}`);
    if (!Number.isInteger(opts.agentValidityDays) || opts.agentValidityDays < 1)
      throw new Error("agentValidityDays must be a positive integer");

    this.cert = new x509.X509Certificate(toArrayBuffer(ca.certificateDer));
    const bc = this.cert.getExtension(x509.BasicConstraintsExtension);
    const ski = this.cert.getExtension(x509.SubjectKeyIdentifierExtension);
    if (!bc?.ca || !ski)
      throw new CaIntegrityError(
        "ERR_CA_CERTIFICATE_INVALID",
        "The CA certificate lacks basicConstraints CA:TRUE or a subjectKeyIdentifier",
        500,
      );
    this.keyArn = ca.keyArn;
    this.certificateDer = new Uint8Array(ca.certificateDer);
    this.certificatePem = pemEncode(this.certificateDer, "CERTIFICATE");
    this.fingerprintSha256 = fingerprintSha256(this.certificateDer);
    this.notBefore = this.cert.notBefore;
    this.notAfter = this.cert.notAfter;
    this.keyId = ski.keyId;
    this.spki = u8(this.cert.publicKey.rawData);
    this.crypto = createKmsCrypto(custody);
    this.trustDomain = opts.trustDomain;
    this.crlUrl = opts.crlUrl;
    this.agentValidityDays = opts.agentValidityDays;
    this.logSignerValidityDays = opts.logSignerValidityDays ?? LOG_SIGNER_VALIDITY_DAYS;
  }

  /** The subject public key info of the CA certificate (DER). */
  get publicKey(): Uint8Array {
    return new Uint8Array(this.spki);
  }

  /** Checks that the CA's KMS key still holds the certified public key (e.g. at startup). */
  async assertKeyMatchesCertificate(): Promise<void> {
    const spki = await this.custody.getPublicKey(this.keyArn);
    if (!bytesEqual(spki, this.spki))
      throw new CaIntegrityError("ERR_PUBLIC_KEY_MISMATCH", "The CA key in KMS does not match the CA certificate", 500);
  }

  /**
   * Issues an agent certificate for `publicKey` (the SPKI KMS GetPublicKey returned for the agent's key).
   * With `keyArn`, the SPKI is re-read from KMS and must match.
   */
  async issueAgentCertificate(opts: {
    agentId: string;
    issuerName: string;
    publicKey: Uint8Array;
    notBefore?: Date;
    keyArn?: string;
  }): Promise<IssuedCertificate> {
    assertAgentId(opts.agentId);
    assertIssuerName(opts.issuerName);
    return this.issueSigner({
      subject: subjectName(opts.agentId, opts.issuerName),
      san: agentSpiffeId(this.trustDomain, opts.agentId),
      publicKey: opts.publicKey,
      notBefore: opts.notBefore,
      days: this.agentValidityDays,
      keyArn: opts.keyArn,
    });
  }

  /** Issues the log signer's certificate (CN=Kakunin log signer, O=Kakunin; SAN spiffe://<td>/log). */
  async issueLogSignerCertificate(opts: {
    publicKey: Uint8Array;
    notBefore?: Date;
    keyArn?: string;
  }): Promise<IssuedCertificate> {
    return this.issueSigner({
      subject: subjectName(LOG_SIGNER_CN, "Kakunin"),
      san: logSpiffeId(this.trustDomain),
      publicKey: opts.publicKey,
      notBefore: opts.notBefore,
      days: this.logSignerValidityDays,
      keyArn: opts.keyArn,
    });
  }

  private async issueSigner(p: {
    subject: x509.Name;
    san: string;
    publicKey: Uint8Array;
    notBefore: Date | undefined;
    days: number;
    keyArn: string | undefined;
  }): Promise<IssuedCertificate> {
    if (!(p.publicKey instanceof Uint8Array))
      throw new ValidationError("publicKey must be DER bytes", { field: "publicKey", status: 422 });
    assertRsaSpki(p.publicKey);
    const spki = new Uint8Array(p.publicKey);
    if (bytesEqual(spki, this.spki))
      throw new ValidationError("The CA key cannot be certified as a signer", { field: "publicKey", status: 422 });
    if (p.keyArn !== undefined) {
      const fromKms = await this.custody.getPublicKey(p.keyArn);
      if (!bytesEqual(fromKms, spki))
        throw new CaIntegrityError(
          "ERR_PUBLIC_KEY_MISMATCH",
          "publicKey is not the public key of the given KMS key",
          409,
        );
    }
    const { notBefore, notAfter } = validityWindow(p.notBefore ?? new Date(), p.days, this.notAfter);
    if (notBefore.getTime() < truncateToSecond(this.notBefore).getTime()) {
      // The clock is behind the CA's own issuance: not an expiry, a clock (or CA) problem.
      throw new CaIntegrityError(
        "ERR_CA_NOT_YET_VALID",
        `The CA certificate is not yet valid at ${notBefore.toISOString()} (valid from ${this.notBefore.toISOString()}); check the server's clock`,
        409,
      );
    }
    if (notBefore.getTime() >= notAfter.getTime()) {
      throw new CaIntegrityError("ERR_CA_EXPIRED", "The CA certificate is not valid at the requested notBefore", 409);
    }
    const serial = newSerial();
    const cert = await signCertificate(this.crypto, this.keyArn, {
      serial,
      subject: p.subject,
      issuer: this.cert.subjectName,
      spki,
      notBefore,
      notAfter,
      extensions: await signerExtensions({ spki, san: p.san, caKeyId: this.keyId, crlUrl: this.crlUrl }),
    });
    checkIssued(cert, serial, spki, this.spki);
    return toIssued(cert, serial);
  }

  /** Signs a v2 CRL (AKI, cRLNumber, reasonCode per entry unless unspecified), verified before it is returned. */
  async signCrl(opts: {
    number: bigint | number;
    thisUpdate: Date;
    nextUpdate: Date;
    revoked: CrlEntryInput[];
  }): Promise<SignedCrl> {
    const thisUpdate = truncateToSecond(opts.thisUpdate);
    const nextUpdate = truncateToSecond(opts.nextUpdate);
    if (!(nextUpdate.getTime() > thisUpdate.getTime()))
      throw new ValidationError("nextUpdate must be after thisUpdate", { field: "nextUpdate", status: 422 });
    const seen = new Set<string>();
    const entries: x509.X509CrlEntryParams[] = [];
    for (const r of opts.revoked) {
      const serial = typeof r.serial === "string" ? r.serial.toLowerCase().replace(/^(00)+(?=[89a-f])/, "") : "";
      if (!/^[0-9a-f]{2,40}$/.test(serial) || serial.length % 2)
        throw new ValidationError(`Not a certificate serial: ${String(r.serial)}`, {
          field: "revoked.serial",
          status: 422,
        });
      if (seen.has(serial))
        throw new ValidationError(`Serial ${serial} is listed twice`, { field: "revoked.serial", status: 422 });
      seen.add(serial);
      const reason = reasonCode(r.reason);
      entries.push({
        serialNumber: serial,
        revocationDate: truncateToSecond(r.revokedAt),
        ...(reason !== undefined ? { reason } : {}),
      });
    }
    const crl = await x509.X509CrlGenerator.create(
      {
        issuer: this.cert.subjectName,
        thisUpdate,
        nextUpdate,
        entries,
        extensions: [new x509.AuthorityKeyIdentifierExtension(this.keyId, false), crlNumberExtension(opts.number)],
        signingAlgorithm: SIGNING_ALGORITHM,
        signingKey: kmsSigningKey(this.keyArn, "RSASSA_PKCS1_V1_5_SHA_256"),
      },
      this.crypto,
    );
    const der = u8(crl.rawData);
    if (!signatureVerifies(der, this.spki)) {
      throw new CaIntegrityError(
        "ERR_CA_SIGNATURE_INVALID",
        "The KMS signature on the CRL does not verify under the CA public key",
      );
    }
    return { der, pem: crlPem(der) };
  }
}

/** Splits a DER SIGNED{} structure (SEQUENCE { tbs, algId, BIT STRING sig }) without re-encoding. */
function splitSigned(der: Uint8Array): { tbs: Uint8Array; alg: Uint8Array; sig: Uint8Array } {
  const readTlv = (buf: Uint8Array, off: number): { tag: number; start: number; end: number; hdrStart: number } => {
    const tag = buf[off]!;
    let len = buf[off + 1]!;
    let p = off + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
    }
    return { tag, start: p, end: p + len, hdrStart: off };
  };
  const outer = readTlv(der, 0);
  const tbs = readTlv(der, outer.start);
  const alg = readTlv(der, tbs.end);
  const bits = readTlv(der, alg.end);
  if (outer.tag !== 0x30 || tbs.tag !== 0x30 || alg.tag !== 0x30 || bits.tag !== 0x03 || der[bits.start] !== 0)
    throw new Error("not a SIGNED structure");
  if (outer.end !== der.length || bits.end !== outer.end) throw new Error("trailing bytes");
  return {
    tbs: der.subarray(tbs.hdrStart, tbs.end),
    alg: der.subarray(alg.hdrStart, alg.end),
    sig: der.subarray(bits.start + 1, bits.end),
  };
}
