import { randomBytes } from "node:crypto";

export function newId(prefix: "iss" | "agt" | "rot"): string {
  return `${prefix}_${randomBytes(16).toString("hex")}`;
}
