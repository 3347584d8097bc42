/**
 * The `details` every lifecycle entry must carry (verifier/FORMATS.md: `cert` for agent.registered,
 * `oldCert`/`newCert` for key.rotated, `cert`/`reason` for certificate.revoked): refused before
 * anything is signed when missing, kept as given otherwise (the signature covers extra fields too).
 */
import { describe, expect, it } from "vitest";
// The one import of server/log in the server's unit tests: contractDetails is pure but lives beside
// the log facade (update this line if the structural pass of issue 14 moves it).
import { contractDetails } from "../../../server/log/audit-log.js";

const REQUIRED = {
  "agent.registered": ["cert"],
  "key.rotated": ["oldCert", "newCert"],
  "certificate.revoked": ["cert", "reason"],
} as const;

describe("contractDetails", () => {
  it("returns the details unchanged, extra fields included, when the contract fields are strings", () => {
    const d = { cert: "0a", oldCert: "0a", newCert: "0b", reason: "keyCompromise", name: "bot", n: 1 };
    for (const type of Object.keys(REQUIRED) as (keyof typeof REQUIRED)[]) {
      expect(contractDetails(type, d)).toBe(d);
      expect(d).toEqual({ cert: "0a", oldCert: "0a", newCert: "0b", reason: "keyCompromise", name: "bot", n: 1 });
    }
  });

  it("refuses a missing or non-string contract field, naming the type and the field", () => {
    for (const [type, fields] of Object.entries(REQUIRED) as [keyof typeof REQUIRED, readonly string[]][]) {
      const full = Object.fromEntries(fields.map((f) => [f, "0a"]));
      for (const f of fields) {
        for (const bad of [undefined, null, 10, {}, ["0a"], true]) {
          const d = { ...full, [f]: bad };
          if (bad === undefined) delete d[f];
          expect(() => contractDetails(type, d), `${type}.${f}=${JSON.stringify(bad)}`).toThrow(
            `${type} details need "${f}" (FORMATS.md)`,
          );
        }
      }
    }
  });

  it("asks only for its own type's fields", () => {
    expect(() => contractDetails("agent.registered", { cert: "0a" })).not.toThrow();
    expect(() => contractDetails("key.rotated", { cert: "0a" })).toThrow(/oldCert/);
    expect(() => contractDetails("certificate.revoked", { cert: "0a" })).toThrow(/reason/);
  });
});
