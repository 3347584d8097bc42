/**
 * Log entries made up for storage and tree tests that never check a signature: v1-shaped, in the
 * key order the server stores (JCS), with a real `hash` over the body and a placeholder `sig`.
 * `salt` changes the payload, so two histories of one issuer can differ from a chosen seq on.
 */
import { createHash } from "node:crypto";
import type { LogEntry } from "../../server/log/types.js";
import { ZERO_HASH } from "../../verifier/src/formats/hash.js";

export interface SyntheticEntryOptions {
  issuer: string;
  seq: number;
  /** Default: the zero hash (tests that do not follow the chain). */
  prevHash?: string;
  salt?: string;
  time?: string;
}

export function syntheticEntry({
  issuer,
  seq,
  prevHash = ZERO_HASH,
  salt = "p",
  time = "2026-12-02T18:00:00.000Z",
}: SyntheticEntryOptions): LogEntry {
  const e = {
    agent: "agt_1",
    issuer,
    payloadHash: createHash("sha256").update(`${salt}${seq}`).digest("hex"),
    prevHash,
    seq,
    signer: { alg: "RSASSA_PSS_SHA_256", cert: "01", key: "arn:k" },
    time,
    type: "agent.operation",
    v: 1,
  };
  return {
    ...e,
    hash: createHash("sha256").update(JSON.stringify(e)).digest("hex"),
    sig: Buffer.from(`sig${seq}`).toString("base64"),
  } as unknown as LogEntry;
}
