/**
 * First-start set-up of the certificate authority and the log signer: the self-signed CA
 * certificate over the CA key, and the log signer certificate it issues over the log key. Each is
 * created once and recorded in `system`; later starts load them.
 */
import type { Logger } from "pino";
import { CertificateAuthority, type CertificateAuthorityOptions } from "../ca/authority.js";
import { pemEncode } from "@kakunin/verifier/formats";
import type { Config } from "../config.js";
import type { AppDeps } from "../deps.js";
import { systemValue } from "../db/views.js";
import { ensureSystemKey, type SetupContext } from "./system-keys.js";
import { ed25519PublicKeyFromSpki, type CheckpointKey } from "../log/tree/log-key.js";

/** The CA's issuance options from the configuration (the CRL URL is the public DER CRL route). */
export function caOptions(
  config: Pick<Config, "trustDomain" | "publicUrl" | "agentValidityDays">,
): CertificateAuthorityOptions {
  return {
    trustDomain: config.trustDomain,
    crlUrl: `${config.publicUrl}/v1/public/crl`,
    agentValidityDays: config.agentValidityDays,
  };
}

async function storeSystemCertificate(
  ctx: SetupContext,
  systemName: string,
  role: "ca" | "log",
  keyArn: string,
  cert: { serial: string; der: Uint8Array; notBefore: Date; notAfter: Date },
) {
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .insertInto("certificates")
      .values({
        serial: cert.serial,
        agent_id: null,
        key_arn: keyArn,
        role,
        der: cert.der,
        not_before: cert.notBefore.toISOString(),
        not_after: cert.notAfter.toISOString(),
        status: "active",
        superseded_at: null,
        revoked_at: null,
        revocation_reason: null,
        created_at: now.toISOString(),
      })
      .execute();
    await trx.insertInto("system").values({ name: systemName, value: cert.serial }).execute();
  });
}

async function certificateDer(ctx: SetupContext, serial: string): Promise<Uint8Array> {
  const row = await ctx.db
    .selectFrom("certificates")
    .select("der")
    .where("serial", "=", serial)
    .executeTakeFirstOrThrow();
  return new Uint8Array(row.der);
}

/** The CA over its KMS key, with its self-signed root certificate (created on first start). */
export async function setUpCertificateAuthority(
  ctx: SetupContext & { logger: Logger },
  config: Config,
): Promise<CertificateAuthority> {
  const caKey = await ensureSystemKey(ctx, "ca");
  let caSerial = await systemValue(ctx.db, "ca_cert_serial");
  if (!caSerial) {
    const root = await CertificateAuthority.createRoot(ctx.custody, caKey.arn);
    await storeSystemCertificate(ctx, "ca_cert_serial", "ca", caKey.arn, root);
    caSerial = root.serial;
    ctx.logger.info({ serial: root.serial }, "created CA certificate");
  }
  return new CertificateAuthority(
    ctx.custody,
    { keyArn: caKey.arn, certificateDer: await certificateDer(ctx, caSerial) },
    caOptions(config),
  );
}

/** The log signer's key and certificate (issued by `ca` on first start). */
export async function setUpLogSigner(
  ctx: SetupContext & { logger: Logger },
  ca: CertificateAuthority,
): Promise<AppDeps["logSigner"]> {
  const logKey = await ensureSystemKey(ctx, "log");
  let logSerial = await systemValue(ctx.db, "log_cert_serial");
  if (!logSerial) {
    const cert = await ca.issueLogSignerCertificate({ publicKey: logKey.publicKey });
    await storeSystemCertificate(ctx, "log_cert_serial", "log", logKey.arn, cert);
    logSerial = cert.serial;
    ctx.logger.info({ serial: cert.serial }, "created log signer certificate");
  }
  return {
    keyArn: logKey.arn,
    certSerial: logSerial,
    certificatePem: pemEncode(await certificateDer(ctx, logSerial), "CERTIFICATE"),
  };
}

/** The log v2 checkpoint key (Ed25519 in KMS, purpose `tlog`): its ARN and raw public key. */
export async function setUpCheckpointKey(ctx: SetupContext): Promise<CheckpointKey> {
  const key = await ensureSystemKey(ctx, "tlog");
  return { arn: key.arn, publicKey: ed25519PublicKeyFromSpki(key.publicKey) };
}
