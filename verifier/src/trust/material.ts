/**
 * Everything a relying party pins out of band, as one object (the role of sigstore-js's
 * TrustMaterial): the CA, the log's signed-note verifier keys, the witness policy and the TSA
 * trust list. Nothing in an input (receipt, export) ever adds to it.
 */
import type { NoteVerifierKey } from "../formats/note.js";
import type { TrustPolicy } from "../formats/policy.js";
import type { TsaPolicy } from "../timestamp/poe-types.js";
import type { TrustAnchor } from "./anchor.js";

export interface TrustMaterial {
  /** The pinned CA (certificate or SHA-256 fingerprint). */
  ca: TrustAnchor;
  /**
   * Log verifier keys (Ed25519, signed-note type 0x01), each named after the origin it signs for
   * (`<log name>/<issuer id>`): `--log-key`. Used together with the policy's `log` lines.
   */
  logKeys?: readonly NoteVerifierKey[];
  /** A C2SP tlog-policy: log keys, witness keys and the quorum a checkpoint needs (`--policy`). */
  policy?: TrustPolicy;
  /** The pinned TSA trust list (and CRLs for the TSA path) for past signature validation (`--tsa`). */
  tsa?: TsaPolicy;
}

/** Either a bare anchor (v1 callers) or full trust material. */
export type TrustInput = TrustAnchor | TrustMaterial;

/** Normalises {@link TrustInput} to {@link TrustMaterial}. */
export function trustMaterialOf(t: TrustInput): TrustMaterial {
  return t && typeof t === "object" && "ca" in t ? t : { ca: t };
}

/** The log keys pinned for `origin`: `logKeys` and the policy's `log` lines, whose key name is the origin. */
export function pinnedLogKeys(t: Pick<TrustMaterial, "logKeys" | "policy">, origin: string): NoteVerifierKey[] {
  const all = [...(t.logKeys ?? []), ...(t.policy?.logs.map((l) => l.key) ?? [])].filter((k) => k.name === origin);
  return all.filter((k, i) => all.findIndex((o) => o.keyId === k.keyId && o.name === k.name) === i);
}

/** Whether any log key is pinned at all (for any origin). */
export function anyLogKeyPinned(t: Pick<TrustMaterial, "logKeys" | "policy">): boolean {
  return (t.logKeys?.length ?? 0) > 0 || (t.policy?.logs.length ?? 0) > 0;
}
