import { randomBytes } from "node:crypto";

/** A new random id: `iss_…` (issuer), `agt_…` (agent), `rot_…` (rotation) or `lkr_…` (log key rotation), 128 bits in lowercase hex. */
export function newId(prefix: "iss" | "agt" | "rot" | "lkr"): string {
  return `${prefix}_${randomBytes(16).toString("hex")}`;
}
