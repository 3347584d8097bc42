/**
 * CRLs: each must be signed by the pinned CA (whose certificate must allow cRLSign), name it as
 * issuer, have thisUpdate not in the future and no critical extension this verifier does not
 * process (RFC 5280 §5.2, §5.3). The revocation-data rule (one for the CLI, the library and the
 * portal): of every valid CRL available — the receipt's or export's own, `--crl` files, one
 * fetched with `--online`, the portal's directory — the newest decides (highest cRLNumber; equal
 * numbers: the later thisUpdate; then the first given). Without a valid CRL revocation is unknown
 * (never assumed "good").
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { VerificationError, type ErrorLocation } from "../../errors.js";
import type { ReportSubject } from "../../report.js";
import { failed, indeterminate, type CheckProblem } from "../problem.js";
import { hexEncode } from "../../formats/bytes.js";
import { pemOrBase64Der } from "../../formats/pem.js";
import { crlReasonName } from "../../formats/revocation.js";
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
  /** Where it came from, for the report (e.g. "receipt", "export line 5", "--crl crl.pem"). */
  source: string;
}

/** One CRL offered as revocation data. */
export interface CrlInput {
  /** PEM "X509 CRL" or base64 DER (attacker-controlled). */
  text: string;
  /** Field name for errors. */
  field: string;
  /** Where it came from, for the report. */
  source: string;
}

/** A CRL that is the CA's but that this verifier may not rely on (unknown critical extension): as if absent, so INDETERMINATE. */
class UnusableCrlError extends VerificationError {
  constructor(message: string, where: ErrorLocation) {
    super("ERR_CRL", message, where);
  }
}

/** CRL extensions this verifier processes (cRLNumber, authorityKeyIdentifier). */
const KNOWN_CRL_EXTENSIONS = new Set(["2.5.29.20", "2.5.29.35"]);
/** CRL entry extensions this verifier processes (reasonCode, invalidityDate: informative). */
const KNOWN_CRL_ENTRY_EXTENSIONS = new Set(["2.5.29.21", "2.5.29.24"]);

/** Tolerated clock skew for thisUpdate. */
const SKEW_MS = 5 * 60_000;

async function parseOne(text: string, field: string, source: string, ca: CertInfo, now: number): Promise<CrlInfo> {
  let crl: pkijs.CertificateRevocationList;
  try {
    const der = pemOrBase64Der(text, "X509 CRL", field);
    const asn1 = asn1js.fromBER(der);
    if (asn1.offset === -1 || asn1.offset !== der.byteLength) throw new Error("bad BER");
    crl = new pkijs.CertificateRevocationList({ schema: asn1.result });
  } catch {
    throw new VerificationError("ERR_CRL", `${field} is not a valid CRL (PEM "X509 CRL" or base64 DER)`, { field });
  }
  let ok = false;
  try {
    // The signature over the TBS bytes as received (pkijs's crl.verify() would also refuse unknown
    // critical extensions, which we report apart, as "not usable" rather than "forged").
    ok =
      crl.issuer.isEqual(ca.pkijs.subject) &&
      (await pkijs
        .getCrypto(true)
        .verifyWithPublicKey(
          crl.tbsView as Uint8Array<ArrayBuffer>,
          crl.signatureValue,
          ca.pkijs.subjectPublicKeyInfo,
          crl.signatureAlgorithm,
        ));
  } catch {
    ok = false;
  }
  if (!ok) throw new VerificationError("ERR_CRL", `${field} is not signed by the pinned CA`, { field });
  // RFC 5280 §5.2/§5.3: a critical (entry) extension we do not process makes the CRL unusable
  // (e.g. a delta-CRL indicator or an issuing distribution point scope we would misread).
  for (const e of crl.crlExtensions?.extensions ?? []) {
    if (e.critical && !KNOWN_CRL_EXTENSIONS.has(e.extnID))
      throw new UnusableCrlError(`${field} has an unknown critical extension ${e.extnID}: not used`, { field });
  }
  for (const rc of crl.revokedCertificates ?? []) {
    for (const e of rc.crlEntryExtensions?.extensions ?? []) {
      if (e.critical && !KNOWN_CRL_ENTRY_EXTENSIONS.has(e.extnID))
        throw new UnusableCrlError(`${field} has an entry with an unknown critical extension ${e.extnID}: not used`, {
          field,
        });
    }
  }
  const thisUpdate = crl.thisUpdate.value.getTime();
  if (thisUpdate > now + SKEW_MS)
    throw new VerificationError("ERR_CRL", `${field} thisUpdate is in the future`, { field });
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
      const name = crlReasonName(en.valueBlock.valueDec);
      if (name) r.reason = name;
    }
    revoked.set(serialHex(rc.userCertificate.valueBlock.valueHexView), r);
  }
  return {
    crlNumber,
    thisUpdate,
    ...(crl.nextUpdate ? { nextUpdate: crl.nextUpdate.value.getTime() } : {}),
    revoked,
    source,
  };
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
export function staleCrlError(crl: CrlInfo): VerificationError {
  return new VerificationError(
    "ERR_CRL",
    `CRL #${crl.crlNumber} is past its nextUpdate (${new Date(crl.nextUpdate ?? 0).toISOString()}): revocations since then are unknown; supply a current CRL`,
  );
}

/**
 * Loads the CRLs (attacker-controlled) and returns the newest valid one (see the module comment),
 * plus a problem per rejected CRL (FAILED: a CRL that is not the CA's is tampering) or,
 * INDETERMINATE, when there is no usable CRL at all: none given, or the pinned CA's certificate
 * lacks keyUsage cRLSign (RFC 5280 §4.2.1.3), so no CRL it signs may be relied on. Staleness is
 * marked on the result (`stale`), for the caller to judge.
 */
export async function loadCrls(
  inputs: readonly CrlInput[],
  ca: CertInfo,
  now: Date,
): Promise<{ crl?: CrlInfo; problems: CheckProblem[] }> {
  if (inputs.length === 0)
    return { problems: [indeterminate(new VerificationError("ERR_CRL", "no CRL: revocation status unknown"))] };
  if (!ca.keyUsage.crlSign) {
    return {
      problems: [
        indeterminate(
          new VerificationError(
            "ERR_CRL",
            "the pinned CA certificate lacks keyUsage cRLSign: no CRL it signs can be used, revocation status unknown",
          ),
        ),
      ],
    };
  }
  const problems: CheckProblem[] = [];
  let best: CrlInfo | undefined;
  for (const { text, field, source } of inputs) {
    try {
      const c = await parseOne(text, field, source, ca, now.getTime());
      if (!best || c.crlNumber > best.crlNumber || (c.crlNumber === best.crlNumber && c.thisUpdate > best.thisUpdate))
        best = c;
    } catch (e) {
      if (e instanceof UnusableCrlError) problems.push(indeterminate(e));
      else
        problems.push(
          failed(
            e instanceof VerificationError ? e : new VerificationError("ERR_CRL", `${field}: ${String(e)}`, { field }),
          ),
        );
    }
  }
  if (best?.nextUpdate !== undefined && best.nextUpdate + SKEW_MS < now.getTime()) best.stale = true;
  return { ...(best ? { crl: best } : {}), problems };
}

/** What the report says about the CRL that decided. */
export function crlSubject(crl: CrlInfo): NonNullable<ReportSubject["crl"]> {
  return {
    number: crl.crlNumber.toString(),
    thisUpdate: new Date(crl.thisUpdate).toISOString(),
    ...(crl.nextUpdate !== undefined ? { nextUpdate: new Date(crl.nextUpdate).toISOString() } : {}),
    source: crl.source,
    stale: !!crl.stale,
  };
}

/** One line naming the deciding CRL: number, thisUpdate, source, freshness. */
export function crlDetail(crl: CrlInfo): string {
  return `CRL #${crl.crlNumber} (thisUpdate ${new Date(crl.thisUpdate).toISOString()}, from ${crl.source}) signed by the pinned CA, ${crl.revoked.size} revoked; ${crl.stale ? `STALE: past its nextUpdate ${new Date(crl.nextUpdate!).toISOString()}, later revocations unknown` : `current until ${crl.nextUpdate !== undefined ? new Date(crl.nextUpdate).toISOString() : "(no nextUpdate)"}`}`;
}

/** CRLs as a caller passes them: PEM/base64 strings, or with a source label. */
export type CrlArg = string | { pem: string; source: string };

/** Normalises caller-given CRLs to inputs. */
export function crlInputs(crls: readonly CrlArg[] | undefined, field: string, defaultSource: string): CrlInput[] {
  return (crls ?? []).map((c, i) =>
    typeof c === "string"
      ? { text: c, field: `${field}[${i}]`, source: `${defaultSource} #${i + 1}` }
      : { text: c.pem, field: `${field}[${i}]`, source: c.source },
  );
}
