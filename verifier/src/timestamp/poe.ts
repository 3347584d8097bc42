/**
 * Past signature validation (ETSI EN 319 102-1 §5.6.2.4) for a Kakunin entry whose signing
 * certificate is revoked or expired at the validation time: the signature is PASSED when a proof
 * of existence (POE) shows it existed before the revocation (or before notAfter), else
 * INDETERMINATE REVOKED_NO_POE / EXPIRED_NO_POE. A POE here is an RFC 3161 timestamp, valid under
 * the pinned TSA trust list, over a checkpoint text whose tree (by a verified inclusion proof)
 * contains the entry; its time is genTime + accuracy (the latest the token can have been made).
 *
 * Pure over its inputs (the clock is `input.now`); WebCrypto and pkijs only. Not for the per-entry
 * worker path: a receipt or a single entry is judged here, once.
 */
import { assessToken, evidenceContext } from "./poe-token.js";
import type {
  ControlTime,
  PastSignatureInput,
  PastSignatureResult,
  ProofOfExistence,
  PsvSubIndication,
  TokenAssessment,
} from "./poe-types.js";

export type * from "./poe-types.js";

const iso = (ms: number) => new Date(ms).toISOString();

/** The bound the POE must precede: the earlier of the revocation (start of its second) and, once past, notAfter. */
function controlTime(input: PastSignatureInput): ControlTime | null {
  const { certificate: c, now } = input;
  const bounds: ControlTime[] = [];
  // A CRL's revocationDate has 1-second precision: the revocation may lie anywhere in that second.
  if (c.revocation)
    bounds.push({
      kind: "revocation",
      time: iso(Math.floor(c.revocation.date / 1000) * 1000),
      ...(c.revocation.reason ? { reason: c.revocation.reason } : {}),
    });
  if (now.getTime() > c.notAfter) bounds.push({ kind: "expiry", time: iso(c.notAfter) });
  if (bounds.length === 0) return null;
  return bounds.reduce((a, b) => (Date.parse(b.time) < Date.parse(a.time) ? b : a));
}

const earliest = (poes: ProofOfExistence[]) =>
  poes.reduce<ProofOfExistence | undefined>(
    (a, p) => (!a || Date.parse(p.latest) < Date.parse(a.latest) ? p : a),
    undefined,
  );

/** Runs past signature validation. Never throws on hostile tokens: every token gets an assessment. */
export async function validatePastSignature(input: PastSignatureInput): Promise<PastSignatureResult> {
  const tokens: (TokenAssessment & { tamper?: PsvSubIndication })[] = [];
  for (let e = 0; e < input.evidence.length; e++) {
    const ctx = await evidenceContext(e, input.evidence[e]!);
    for (let t = 0; t < ctx.evidence.tokens.length; t++) tokens.push(await assessToken(ctx, t, input.tsa, input.now));
  }
  const control = controlTime(input);
  const accepted = tokens.filter((t) => t.status === "accepted");
  const bestPoe = earliest(accepted.map((t) => t.poe!));
  const result = (r: Omit<PastSignatureResult, "tokens" | "control">): PastSignatureResult => {
    const out: PastSignatureResult = { ...r, control, tokens: tokens.map(({ tamper: _, ...t }) => t) };
    if (bestPoe) out.bestPoe = bestPoe;
    return out;
  };

  // A token whose bytes do not verify is tampering, whatever the other tokens say.
  const tampered = tokens.find((t) => t.status === "tampered");
  if (tampered) {
    return result({
      indication: "FAILED",
      subIndication: tampered.tamper ?? "FORMAT_FAILURE",
      message: `timestamp ${tampered.token} of checkpoint ${tampered.evidence} is tampered: ${tampered.message}`,
    });
  }
  const { certificate: c, now } = input;
  if (bestPoe && Date.parse(bestPoe.latest) < c.notBefore) {
    return result({
      indication: "FAILED",
      subIndication: "NOT_YET_VALID",
      message: `the entry existed at ${bestPoe.latest}, before the certificate's notBefore ${iso(c.notBefore)}`,
    });
  }
  if (now.getTime() < c.notBefore) {
    return result({
      indication: "FAILED",
      subIndication: "NOT_YET_VALID",
      message: `the certificate is not valid before ${iso(c.notBefore)} (validation time ${now.toISOString()})`,
    });
  }
  if (!control)
    return result({
      indication: "PASSED",
      message: "the certificate is valid and not revoked at the validation time: no proof of existence is needed",
    });

  const bound = Date.parse(control.time);
  const what =
    control.kind === "revocation"
      ? `the revocation (${control.reason ?? "no reason"}) at ${control.time}`
      : `the certificate's expiry at ${control.time}`;
  for (const t of accepted) {
    if (Date.parse(t.poe!.latest) >= bound) {
      t.status = "rejected";
      t.code = control.kind === "revocation" ? "ERR_POE_AFTER_REVOCATION" : "ERR_POE_AFTER_EXPIRY";
      t.message = `the timestamp (${t.poe!.time}, latest ${t.poe!.latest}) is not before ${what}`;
    }
  }
  const deciding = earliest(tokens.filter((t) => t.status === "accepted").map((t) => t.poe!));
  if (deciding) {
    return {
      ...result({
        indication: "PASSED",
        message: `proof of existence at ${deciding.latest} by ${deciding.tsa.name}, before ${what}`,
      }),
      decidingPoe: deciding,
    };
  }
  const subIndication = control.kind === "revocation" ? "REVOKED_NO_POE" : "EXPIRED_NO_POE";
  const why =
    tokens.length === 0
      ? "no timestamp was given"
      : `none of ${tokens.length} timestamp(s) is a usable proof: ${tokens.map((t) => `[${t.evidence}.${t.token}] ${t.code}`).join(", ")}`;
  return result({
    indication: "INDETERMINATE",
    subIndication,
    message: `nothing proves the signature existed before ${what}; ${why}`,
  });
}
