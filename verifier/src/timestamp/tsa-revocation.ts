/**
 * Revocation of the certificates on a TSA's path, from CRLs the relying party supplies (the `--tsa`
 * bundle; nothing is fetched). RFC 3161 §4 decides what a revocation means for a token: revoked
 * with reasonCode unspecified, affiliationChanged, superseded or cessationOfOperation (the key was
 * not compromised), tokens made before the revocation stay valid; revoked with any other reason,
 * or with no reasonCode at all, no token signed under that key can be trusted, whatever its genTime.
 */
import { crlReasonName } from "../formats/revocation.js";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { hexEncode } from "../formats/bytes.js";
import { OID_EXT_KEY_USAGE } from "./oids.js";
import { own, UnsupportedAlgorithmError, verifySignature } from "./signature.js";
import { subjectName } from "./token-info.js";
import { parseDer } from "./verify-token.js";

/** Status of one certificate on the TSA path. */
export interface TsaCertificateRevocation {
  subject: string;
  serial: string;
  /** `anchor`: pinned, not checked; `unknown`: no usable current CRL from its issuer. */
  status: "good" | "revoked" | "unknown" | "anchor";
  /** Revocation date (ISO 8601) and reasonCode name, when revoked. */
  date?: string;
  reason?: string;
  /** The CRL that decided, when one did. */
  crl?: { issuer: string; thisUpdate: string; nextUpdate?: string; stale: boolean };
}

/** What the revocation data allows for one token. */
export interface TsaRevocationResult {
  /** `ok`: every non-anchor certificate good, or revoked benignly after the token; `unknown`: some status unknown, none disqualifying; `revoked`: the token cannot be trusted. */
  verdict: "ok" | "unknown" | "revoked";
  certificates: TsaCertificateRevocation[];
  /** Why, when the verdict is not `ok`. */
  message?: string;
}

/** RFC 3161 §4: the reason codes that say the key was not compromised. */
const BENIGN = new Set(["unspecified", "affiliationChanged", "superseded", "cessationOfOperation"]);
/** CRL extensions understood here (cRLNumber, authorityKeyIdentifier); entry extensions (reasonCode, invalidityDate). */
const KNOWN_CRL_EXTENSIONS = new Set(["2.5.29.20", "2.5.29.35"]);
const KNOWN_ENTRY_EXTENSIONS = new Set(["2.5.29.21", "2.5.29.24"]);
const SKEW_MS = 5 * 60_000;
const KU_CRL_SIGN = 6;

function serialOf(int: asn1js.Integer): string {
  let v = int.valueBlock.valueHexView;
  if (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) !== 0) v = v.subarray(1);
  return hexEncode(v);
}

function mayCrlSign(cert: pkijs.Certificate): boolean {
  const ku = (cert.extensions ?? []).find((e) => e.extnID === OID_EXT_KEY_USAGE);
  if (!ku) return true;
  const bits = asn1js.fromBER(own(ku.extnValue.valueBlock.valueHexView)).result;
  if (!(bits instanceof asn1js.BitString)) return false;
  return Boolean(bits.valueBlock.valueHexView[KU_CRL_SIGN >> 3]! & (0x80 >> (KU_CRL_SIGN & 7)));
}

/** A CRL this verifier may rely on: signed by `issuer`, no unknown critical (entry) extension, not from the future. */
async function usableCrlOf(
  crl: pkijs.CertificateRevocationList,
  issuer: pkijs.Certificate,
  now: Date,
): Promise<boolean> {
  if (!crl.issuer.isEqual(issuer.subject) || !mayCrlSign(issuer)) return false;
  if (crl.thisUpdate.value.getTime() > now.getTime() + SKEW_MS) return false;
  if ((crl.crlExtensions?.extensions ?? []).some((e) => e.critical && !KNOWN_CRL_EXTENSIONS.has(e.extnID)))
    return false;
  for (const rc of crl.revokedCertificates ?? []) {
    if ((rc.crlEntryExtensions?.extensions ?? []).some((e) => e.critical && !KNOWN_ENTRY_EXTENSIONS.has(e.extnID)))
      return false;
  }
  try {
    return await verifySignature(
      issuer.subjectPublicKeyInfo,
      crl.signatureAlgorithm.algorithmId,
      undefined,
      own(crl.tbsView),
      own(crl.signatureValue.valueBlock.valueHexView),
    );
  } catch (err) {
    if (err instanceof UnsupportedAlgorithmError) return false;
    throw err;
  }
}

function reasonOf(rc: pkijs.RevokedCertificate): string | undefined {
  const ext = rc.crlEntryExtensions?.extensions.find((e) => e.extnID === "2.5.29.21");
  if (!ext) return undefined;
  const en = asn1js.fromBER(own(ext.extnValue.valueBlock.valueHexView)).result;
  return en instanceof asn1js.Enumerated
    ? (crlReasonName(en.valueBlock.valueDec) ?? `reason${en.valueBlock.valueDec}`)
    : "unparsable";
}

/** Parses DER CRLs; one that does not parse is skipped here (the bundle parser reports it by line). */
export function parseCrls(crls: readonly Uint8Array[]): pkijs.CertificateRevocationList[] {
  const out: pkijs.CertificateRevocationList[] = [];
  for (const der of crls) {
    try {
      out.push(new pkijs.CertificateRevocationList({ schema: parseDer(der, "crl") }));
    } catch {
      // not a CRL: never evidence either way
    }
  }
  return out;
}

/**
 * Checks every certificate of `path` (DER, signer first, pinned anchor last) against the CRLs of
 * its issuer (the next certificate up). `latest` is the latest instant the token may have been
 * made (genTime + accuracy); a benign revocation must start after the second that contains it.
 */
export async function checkTsaRevocation(
  path: readonly Uint8Array[],
  crls: readonly Uint8Array[],
  latest: Date,
  now: Date,
): Promise<TsaRevocationResult> {
  const certs = path.map((d) => new pkijs.Certificate({ schema: parseDer(d, "certificate") }));
  const parsed = parseCrls(crls);
  const out: TsaCertificateRevocation[] = [];
  let verdict: TsaRevocationResult["verdict"] = "ok";
  let message: string | undefined;
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i]!;
    const entry: TsaCertificateRevocation = {
      subject: subjectName(path[i]!),
      serial: serialOf(cert.serialNumber),
      status: "anchor",
    };
    out.push(entry);
    const issuer = certs[i + 1];
    if (!issuer) break;
    let best: pkijs.CertificateRevocationList | undefined;
    for (const crl of parsed) {
      if ((!best || crl.thisUpdate.value > best.thisUpdate.value) && (await usableCrlOf(crl, issuer, now))) best = crl;
    }
    if (!best) {
      entry.status = "unknown";
      if (verdict === "ok")
        [verdict, message] = ["unknown", `no CRL from ${subjectName(path[i + 1]!)} for ${entry.subject}`];
      continue;
    }
    const stale = best.nextUpdate !== undefined && best.nextUpdate.value.getTime() + SKEW_MS < now.getTime();
    entry.crl = { issuer: subjectName(path[i + 1]!), thisUpdate: best.thisUpdate.value.toISOString(), stale };
    if (best.nextUpdate) entry.crl.nextUpdate = best.nextUpdate.value.toISOString();
    const listed = (best.revokedCertificates ?? []).find((rc) => serialOf(rc.userCertificate) === entry.serial);
    if (!listed) {
      entry.status = stale ? "unknown" : "good";
      if (stale && verdict === "ok")
        [verdict, message] = ["unknown", `the newest CRL for ${entry.subject} is past its nextUpdate`];
      continue;
    }
    entry.status = "revoked";
    const date = listed.revocationDate.value.getTime();
    entry.date = new Date(date).toISOString();
    const reason = reasonOf(listed);
    if (reason) entry.reason = reason;
    const benignAndLater =
      reason !== undefined && BENIGN.has(reason) && latest.getTime() < Math.floor(date / 1000) * 1000;
    if (!benignAndLater) {
      verdict = "revoked";
      message =
        reason === undefined || !BENIGN.has(reason)
          ? `${entry.subject} is revoked (${reason ?? "no reasonCode"}): under RFC 3161 §4 no token signed under it can be trusted`
          : `${entry.subject} was revoked (${reason}) at ${entry.date}, not after the token`;
    }
  }
  const result: TsaRevocationResult = { verdict, certificates: out };
  if (message) result.message = message;
  return result;
}
