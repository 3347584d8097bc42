/** Shared steps for single-signature verification (receipts and bare signatures). */
import { malformed, VerificationError } from "./errors.js";
import { checkCertificate, type CheckedCert } from "./checks/cert-path/index.js";
import { crlDetail, crlSubject, loadCrls, staleCrlError, type CrlInfo, type CrlInput } from "./checks/crl/index.js";
import { failed, findingOf, indeterminate, untrustedRoot, type CheckProblem } from "./checks/problem.js";
import type { ReportBuilder, ReportSubject, Step } from "./report.js";
import { resolveTrustAnchor, type TrustAnchor } from "./trust/anchor.js";
import { pemDecodeAll } from "./formats/pem.js";
import { parseCertificateDer, type CertInfo } from "./x509/certificate.js";

/** Collects problems and step outcomes, then turns them into one finding. */
export class SingleCheck {
  problems: CheckProblem[] = [];
  constructor(
    readonly rb: ReportBuilder,
    readonly seq?: number,
  ) {}

  /** Runs a step: problems it returns (or throws) decide its status. */
  step(name: string, detail: string, problems: CheckProblem[]): boolean {
    for (const p of problems) {
      this.problems.push(p);
      this.rb.error(p.error, p.level, this.seq === undefined ? {} : { seq: this.seq });
    }
    const status: Step["status"] = problems.some((p) => p.level === "failed")
      ? "failed"
      : problems.length
        ? "indeterminate"
        : "passed";
    this.rb.step(name, status, problems[0]?.error.message ?? detail);
    return status === "passed";
  }

  skip(name: string, detail: string): void {
    this.rb.step(name, "skipped", detail);
  }

  /** Emits the single finding (kept even when PASSED) and builds the report. */
  finish(passMessage: string) {
    const first = this.problems.find((p) => p.level === "failed") ?? this.problems[0];
    const seq = this.seq === undefined ? {} : { seq: this.seq };
    this.rb.finding(
      first ? findingOf(first, seq) : { ...seq, verdict: "PASSED", code: "OK", message: passMessage },
      true,
    );
    return this.rb.build();
  }
}

/** Parses every certificate in a list of PEM strings (each may hold several blocks). */
export async function parseCertificates(pems: readonly string[], field: string): Promise<CertInfo[]> {
  const out: CertInfo[] = [];
  for (let i = 0; i < pems.length; i++) {
    for (const b of pemDecodeAll(pems[i]!, `${field}[${i}]`)) {
      if (b.label !== "CERTIFICATE")
        throw malformed(`${field}[${i}] holds a PEM ${b.label}, not CERTIFICATE`, { field: `${field}[${i}]` });
      out.push(await parseCertificateDer(b.der, `${field}[${i}]`));
    }
  }
  return out;
}

/** Trust root → certificate path and profile → CRL, for the leaf with `serial` (or the first non-CA). */
export async function trustAndPath(
  sc: SingleCheck,
  trust: TrustAnchor,
  certs: readonly CertInfo[],
  leafSerial: string | undefined,
  crlInputs: CrlInput[],
  now: Date,
): Promise<{ ca?: CertInfo; leaf?: CheckedCert; crl?: CrlInfo; others: CheckedCert[] }> {
  const cas = certs.filter((c) => c.basicConstraints.ca);
  let ca: CertInfo | undefined;
  try {
    ca = await resolveTrustAnchor(trust, cas);
    sc.step("trust root", `pinned CA sha256:${ca.fingerprint}`, []);
  } catch (e) {
    sc.step("trust root", "", [untrustedRoot(e)]);
    if (trust && "caCertificate" in trust) ca = await resolveTrustAnchor(trust, []).catch(() => undefined);
  }
  const subject: ReportSubject = sc.rb.report.subject ?? {};
  sc.rb.report.subject = subject;
  if (ca) subject.ca = { ...(ca.subjectCN ? { subject: ca.subjectCN } : {}), fingerprint: `sha256:${ca.fingerprint}` };
  // Certificate identity: a serial names exactly one certificate. Two different certificates with
  // one serial would let the path check and the signature check look at different objects.
  const conflicts = conflictingSerials(certs);
  const leafInfo = certs.find((c) => (leafSerial === undefined ? !c.basicConstraints.ca : c.serial === leafSerial));
  const others: CheckedCert[] = [];
  let leaf: CheckedCert | undefined;
  if (leafInfo) {
    leaf = ca
      ? await checkCertificate(leafInfo, ca)
      : {
          ...leafInfo,
          role: "unknown",
          pathError: new VerificationError("ERR_CERT_PATH", "no trusted CA to check the certificate against"),
        };
    if (conflicts.has(leaf.serial)) leaf.pathError = conflicts.get(leaf.serial)!;
    subject.certificate = {
      serial: leaf.serial,
      ...(leaf.subjectCN ? { subject: leaf.subjectCN } : {}),
      role: leaf.role,
      notBefore: new Date(leaf.notBefore).toISOString(),
      notAfter: new Date(leaf.notAfter).toISOString(),
      fingerprint: `sha256:${leaf.fingerprint}`,
    };
    sc.step(
      "certificate path",
      `certificate ${leaf.serial} issued by the pinned CA; profile checked`,
      leaf.pathError ? [failed(leaf.pathError)] : [],
    );
  }
  if (ca) {
    const seen = new Set<string>(leafInfo ? [leafInfo.fingerprint] : []);
    for (const c of certs) {
      if (c.basicConstraints.ca || seen.has(c.fingerprint)) continue;
      seen.add(c.fingerprint);
      const checked = await checkCertificate(c, ca);
      if (conflicts.has(c.serial)) checked.pathError = conflicts.get(c.serial)!;
      others.push(checked);
    }
  }
  let crl: CrlInfo | undefined;
  if (!ca) sc.skip("CRL", "no trusted CA");
  else {
    const r = await loadCrls(crlInputs, ca, now);
    const ps = r.problems;
    if (r.crl) {
      crl = r.crl;
      subject.crl = crlSubject(crl);
    }
    // A stale CRL still proves what it lists; only a signer it does not list is of unknown status.
    if (crl?.stale && !(leaf && crl.revoked.has(leaf.serial))) ps.push(indeterminate(staleCrlError(crl)));
    sc.step("CRL", crl ? crlDetail(crl) : "", ps);
  }
  if (leaf && crl) {
    const rev = crl.revoked.get(leaf.serial);
    subject.revocation = rev
      ? {
          status: "revoked",
          date: new Date(rev.date).toISOString(),
          ...(rev.reason ? { reason: rev.reason } : {}),
          crlNumber: crl.crlNumber.toString(),
        }
      : { status: "good", crlNumber: crl.crlNumber.toString() };
  } else if (leaf) subject.revocation = { status: "unknown" };
  return { ...(ca ? { ca } : {}), ...(leaf ? { leaf } : {}), ...(crl ? { crl } : {}), others };
}

/**
 * Serials carried by two or more *different* certificates (by DER fingerprint), each with the
 * ERR_CERT_PATH that makes every one of them unusable. Exact duplicates are not a conflict.
 */
export function conflictingSerials(certs: readonly CertInfo[]): Map<string, VerificationError> {
  const first = new Map<string, string>();
  const out = new Map<string, VerificationError>();
  for (const c of certs) {
    const fp = first.get(c.serial);
    if (fp === undefined) first.set(c.serial, c.fingerprint);
    else if (fp !== c.fingerprint && !out.has(c.serial)) {
      out.set(
        c.serial,
        new VerificationError(
          "ERR_CERT_PATH",
          `two different certificates with serial ${c.serial}: a serial must name exactly one certificate`,
          { field: "certificates" },
        ),
      );
    }
  }
  return out;
}

/** A revoked certificate with nothing proving the signature came first. */
export function noPoe(serial: string, seq?: number): CheckProblem {
  return indeterminate(
    new VerificationError(
      "ERR_NO_POE",
      `certificate ${serial} is revoked and nothing proves the signature was made before the revocation`,
      seq === undefined ? {} : { seq },
    ),
  );
}
