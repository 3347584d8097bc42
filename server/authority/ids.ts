import { randomBytes } from "node:crypto";

/** A new random id: `iss_…` (issuer), `agt_…` (agent) or `rot_…` (rotation), 128 bits in lowercase hex. */
export function newId(prefix: "iss" | "agt" | "rot"): string {
  return `${prefix}_${randomBytes(16).toString("hex")}`;
}
