/**
 * The certificate authority. Its private key lives in KMS: every certificate and CRL is assembled
 * here, its TBS bytes hashed locally and signed by KMS (RSASSA_PKCS1_V1_5_SHA_256, MessageType=DIGEST).
 * Before anything is returned, the signature is verified against the CA public key and the certified
 * public key is compared with the one the caller got from KMS GetPublicKey — a cheap guard against a
 * misbehaving HSM or a mix-up of keys.
 */
import { ValidationError } from "../errors.js";
import type { KeyCustody } from "../kms/custody.js";
import { bytesEqual, toArrayBuffer } from "./bytes.js";
import { crlNumberExtension, crlPem } from "./crl.js";
import { buildSignedCrl, type CrlEntryInput } from "./crl-builder.js";
import { CaIntegrityError } from "./errors.js";
import { checkIssued, fingerprintSha256, signCertificate, toIssued, u8, type IssuedCertificate } from "./issue.js";
import { createKmsCrypto, kmsSigningKey } from "./kms-crypto.js";
import { signatureVerifies } from "./signed.js";
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
  signerExtensions,
  subjectName,
  truncateToSecond,
  validityWindow,
} from "./profiles.js";
import { newSerial } from "./serial.js";
import { x509 } from "./x509.js";

export type { RevocationReason } from "./crl.js";
export { REVOCATION_REASONS, isRevocationReason } from "./crl.js";
export type { CrlEntryInput } from "./crl-builder.js";
export { CaIntegrityError } from "./errors.js";
export { certificateInfo, fingerprintSha256, type IssuedCertificate } from "./issue.js";

export interface SignedCrl {
  der: Uint8Array;
  /** label "X509 CRL" */
  pem: string;
}

export interface CertificateAuthorityOptions {
  trustDomain: string;
  /** Absolute URL of the DER CRL, e.g. `${publicUrl}/v1/public/crl`. */
  crlUrl: string;
  agentValidityDays: number;
  /** Default 5 years (capped at the CA's notAfter). */
  logSignerValidityDays?: number;
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

  /**
   * Signs a v2 CRL (AKI, cRLNumber; a reasonCode per entry unless unspecified, and then no entry
   * extensions at all — crl-builder.ts), verified before it is returned.
   */
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
    const der = await buildSignedCrl(
      {
        issuer: this.cert.subjectName,
        thisUpdate,
        nextUpdate,
        revoked: opts.revoked,
        extensions: [new x509.AuthorityKeyIdentifierExtension(this.keyId, false), crlNumberExtension(opts.number)],
      },
      this.crypto,
      kmsSigningKey(this.keyArn, "RSASSA_PKCS1_V1_5_SHA_256"),
    );
    if (!signatureVerifies(der, this.spki)) {
      throw new CaIntegrityError(
        "ERR_CA_SIGNATURE_INVALID",
        "The KMS signature on the CRL does not verify under the CA public key",
      );
    }
    return { der, pem: crlPem(der) };
  }
}
