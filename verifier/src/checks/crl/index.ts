/**
 * CRLs: each must be signed by the pinned CA, name it as issuer, and have thisUpdate not in the
 * future; of the valid ones, the highest cRLNumber wins. Without a valid CRL revocation is unknown
 * (never assumed "good").
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { CrlError, KakuninError } from "../../errors.js";
import { pemOrBase64Der } from "../../util/pem.js";
import { hexEncode } from "../../util/bytes.js";
import { serialHex, type CertInfo } from "../../x509/certificate.js";

/** A revoked serial as the CRL states it. */
export interface Revocation {
  date: number;
  reason?: string;
}
/** The CRL in force. */
export interface CrlInfo {
  crlNumber: bigint;
  thisUpdate: number;
  nextUpdate?: number;
  /** nextUpdate has passed (beyond the clock-skew allowance) at the verification time: revocations since are unknown. */
  stale?: boolean;
  revoked: Map<string, Revocation>;
}

const REASONS = ["unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
  "cessationOfOperation", "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise"];
/** Tolerated clock skew for thisUpdate. */
const SKEW_MS = 5 * 60_000;

async function parseOne(text: string, field: string, ca: CertInfo, now: number): Promise<CrlInfo> {
  let crl: pkijs.CertificateRevocationList;
  try {
    const der = pemOrBase64Der(text, "X509 CRL", field);
    const asn1 = asn1js.fromBER(der);
    if (asn1.offset === -1 || asn1.offset !== der.byteLength) throw new Error("bad BER");
    crl = new pkijs.CertificateRevocationList({ schema: asn1.result });
  } catch {
    throw new CrlError(`${field} is not a valid CRL (PEM "X509 CRL" or base64 DER)`, { field });
  }
  let ok = false;
  try {
    ok = crl.issuer.isEqual(ca.pkijs.subject) && (await crl.verify({ issuerCertificate: ca.pkijs }));
  } catch {
    ok = false;
  }
  if (!ok) throw new CrlError(`${field} is not signed by the pinned CA`, { field });
  const thisUpdate = crl.thisUpdate.value.getTime();
  if (thisUpdate > now + SKEW_MS) throw new CrlError(`${field} thisUpdate is in the future`, { field });
  let crlNumber = -1n;
  const numExt = crl.crlExtensions?.extensions.find((e) => e.extnID === "2.5.29.20");
  if (numExt) {
    const int = asn1js.fromBER(numExt.extnValue.valueBlock.valueHexView).result as asn1js.Integer;
    const hex = hexEncode(int.valueBlock.valueHexView);
    crlNumber = hex ? BigInt(`0x${hex}`) : 0n;
  }
  const revoked = new Map<string, Revocation>();
  for (const rc of crl.revokedCertificates ?? []) {
    const r: Revocation = { date: rc.revocationDate.value.getTime() };
    const reasonExt = rc.crlEntryExtensions?.extensions.find((e) => e.extnID === "2.5.29.21");
    if (reasonExt) {
      const en = asn1js.fromBER(reasonExt.extnValue.valueBlock.valueHexView).result as asn1js.Enumerated;
      const name = REASONS[en.valueBlock.valueDec];
      if (name) r.reason = name;
    }
    revoked.set(serialHex(rc.userCertificate.valueBlock.valueHexView), r);
  }
  return { crlNumber, thisUpdate, ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.value.getTime() } : {}), revoked };
}

/**
 * Does a proof of existence at `time` (epoch ms, e.g. a checkpoint's `time`) precede the
 * revocation? A CRL's revocationDate has 1-second precision (the server truncates the real
 * instant to the second), entry and checkpoint times milliseconds. The revocation may have
 * happened anywhere within its second, so only a time before the *start* of that second proves
 * precedence: a time in the same second never does (INDETERMINATE, never a guess).
 */
export function precedesRevocation(time: number, rev: Revocation): boolean {
  return time < Math.floor(rev.date / 1000) * 1000;
}

/** The ERR_CRL (indeterminate) for a CRL past its nextUpdate. */
export function staleCrlError(crl: CrlInfo): CrlError {
  return new CrlError(`CRL #${crl.crlNumber} is past its nextUpdate (${new Date(crl.nextUpdate ?? 0).toISOString()}): revocations since then are unknown; supply a current CRL`);
}

/**
 * Loads the CRLs (PEM or base64 DER, attacker-controlled) and returns the valid one with the highest
 * cRLNumber, plus an ERR_CRL per rejected CRL.
 */
export async function loadCrls(
  inputs: readonly { text: string; field: string }[],
  ca: CertInfo,
  now: Date,
): Promise<{ crl?: CrlInfo; errors: KakuninError[] }> {
  const errors: KakuninError[] = [];
  let best: CrlInfo | undefined;
  for (const { text, field } of inputs) {
    try {
      const c = await parseOne(text, field, ca, now.getTime());
      if (!best || c.crlNumber > best.crlNumber) best = c;
    } catch (e) {
      errors.push(e instanceof KakuninError ? e : new CrlError(`${field}: ${String(e)}`, { field }));
    }
  }
  if (best?.nextUpdate !== undefined && best.nextUpdate + SKEW_MS < now.getTime()) best.stale = true;
  return { ...(best ? { crl: best } : {}), errors };
}
