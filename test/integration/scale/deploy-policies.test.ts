/**
 * The shipped deployment policies (server/deploy/*.json) match what the code really does:
 * the key policy is exactly what KeyCustody attaches at CreateKey (buildKeyPolicy), and the IAM
 * policy allows every KMS action KeyCustody can call — and denies deletion and policy change.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildKeyPolicy } from "../../../server/kms/policy.js";

const root = new URL("../../../", import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), "utf8");

describe("server/deploy policies", () => {
  it("kms-key-policy.json is buildKeyPolicy's output (placeholders ACCOUNT_ID, role kakunin-service)", () => {
    const shipped = JSON.parse(read("server/deploy/kms-key-policy.json").replaceAll("ACCOUNT_ID", "111122223333"));
    const built = JSON.parse(
      buildKeyPolicy({
        accountId: "111122223333",
        serviceRoleArn: "arn:aws:iam::111122223333:role/kakunin-service",
        purpose: "agent",
        region: "eu-west-1",
      }),
    );
    expect(shipped).toEqual(built);
  });

  it("iam-policy.json allows every KMS call the code makes, and denies deletion and policy change", () => {
    const custody = read("server/kms/custody.ts");
    const called = [...custody.matchAll(/new (\w+)Command\(/g)].map((m) => `kms:${m[1]}`);
    const policy = JSON.parse(read("server/deploy/iam-policy.json"));
    const allowed = new Set<string>(
      policy.Statement.filter((s: any) => s.Effect === "Allow").flatMap((s: any) => [s.Action].flat()),
    );
    const denied = new Set<string>(
      policy.Statement.filter((s: any) => s.Effect === "Deny" && !s.Condition).flatMap((s: any) => [s.Action].flat()),
    );
    // PutKeyPolicy is only called when no service role is configured; production sets KAKUNIN_SERVICE_ROLE_ARN.
    for (const a of called.filter((c) => c !== "kms:PutKeyPolicy")) expect(allowed, a).toContain(a);
    for (const a of ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DeleteImportedKeyMaterial", "kms:CreateGrant"])
      expect(denied, a).toContain(a);
    for (const a of allowed) expect(denied.has(a), a).toBe(false);
  });

  it("iam-policy.json lets CreateKey make each purpose's key spec (Ed25519 only for the checkpoint key) and use tlog keys", () => {
    const policy = JSON.parse(read("server/deploy/iam-policy.json"));
    /** Does an Allow statement for `action` match these request values (StringEquals conditions only)? */
    const allows = (action: string, values: Record<string, string>) =>
      policy.Statement.some(
        (st: any) =>
          st.Effect === "Allow" &&
          [st.Action].flat().includes(action) &&
          Object.entries(st.Condition?.StringEquals ?? {}).every(
            ([k, v]) => !(k in values) || [v].flat().includes(values[k]),
          ),
      );
    const create = (purpose: string, spec: string) =>
      allows("kms:CreateKey", {
        "kms:KeySpec": spec,
        "aws:RequestTag/kakunin:purpose": purpose,
        "aws:RequestedRegion": "eu-west-1",
      });
    for (const p of ["agent", "ca", "log"]) expect(create(p, "RSA_2048"), p).toBe(true);
    expect(create("tlog", "ECC_NIST_EDWARDS25519")).toBe(true);
    expect(create("agent", "ECC_NIST_EDWARDS25519")).toBe(false);
    expect(create("tlog", "RSA_2048")).toBe(false);
    const onTlog = { "aws:ResourceTag/kakunin:purpose": "tlog", "aws:RequestedRegion": "eu-west-1" };
    for (const a of ["kms:Sign", "kms:GetPublicKey", "kms:CreateAlias"]) expect(allows(a, onTlog), a).toBe(true);
    // Log key rotation moves alias/kakunin/tlog between checkpoint keys, and no other alias onto any other key.
    const updates = policy.Statement.filter(
      (st: any) => st.Effect === "Allow" && [st.Action].flat().includes("kms:UpdateAlias"),
    );
    const onAlias = updates.filter((st: any) => String(st.Resource).includes(":alias/"));
    const onKeys = updates.filter((st: any) => String(st.Resource).includes(":key/"));
    expect(onAlias.map((st: any) => st.Resource)).toEqual(["arn:aws:kms:*:ACCOUNT_ID:alias/kakunin/tlog"]);
    expect(onKeys.map((st: any) => st.Condition?.StringEquals?.["aws:ResourceTag/kakunin:purpose"])).toEqual(["tlog"]);
    expect(updates).toHaveLength(2);
  });
});
