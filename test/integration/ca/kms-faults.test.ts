/** KMS throttling and 5xx faults map to ERR_KMS_UNAVAILABLE with a Retry-After, against the real local KMS. */
import { afterEach, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";
import { KeyCustody } from "../../../server/kms/custody.js";
import { CertificateAuthority } from "../../../server/ca/authority.js";

let kms: LocalKms | undefined;
afterEach(async () => {
  await kms?.stop();
  kms = undefined;
});

async function errorOf(p: Promise<unknown>): Promise<{ code?: string; status?: number; retryAfter?: number }> {
  try {
    await p;
  } catch (err) {
    return err as { code?: string; status?: number; retryAfter?: number };
  }
  throw new Error("expected a rejection");
}

const ARN = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000";

describe("KMS unavailability", () => {
  it("throttling → ERR_KMS_UNAVAILABLE (503) with retryAfter, for every custody call", async () => {
    kms = await startLocalKms({ throttleRate: 1 });
    const custody = new KeyCustody(kms.client({ maxAttempts: 1 }), {
      region: kms.region,
      allowedRegions: ["eu-west-1"],
    });
    const calls: [string, () => Promise<unknown>][] = [
      ["createSigningKey", () => custody.createSigningKey({ purpose: "agent", tags: {}, description: "x" })],
      ["getPublicKey", () => custody.getPublicKey(ARN)],
      ["signDigest", () => custody.signDigest(ARN, new Uint8Array(32), "RSASSA_PKCS1_V1_5_SHA_256")],
      ["disableKey", () => custody.disableKey(ARN)],
      ["describeKey", () => custody.describeKey(ARN)],
      ["findKeyByAlias", () => custody.findKeyByAlias("alias/kakunin/ca")],
      ["findKeysByTag", () => custody.findKeysByTag("kakunin:agent", "a")],
      ["createRoot", () => CertificateAuthority.createRoot(custody, ARN, {})],
    ];
    for (const [name, call] of calls) {
      const e = await errorOf(call());
      expect(e.code, name).toBe("ERR_KMS_UNAVAILABLE");
      expect(e.status).toBe(503);
      expect(e.retryAfter).toBeGreaterThanOrEqual(1);
    }
  });

  it("throttling survives the SDK's own retries and still maps to ERR_KMS_UNAVAILABLE", async () => {
    kms = await startLocalKms({ throttleRate: 1 });
    const custody = new KeyCustody(kms.client({ maxAttempts: 2 }), {
      region: kms.region,
      allowedRegions: ["eu-west-1"],
    });
    const e = await errorOf(custody.getPublicKey(ARN));
    expect(e).toMatchObject({ code: "ERR_KMS_UNAVAILABLE", status: 503 });
    expect(e.retryAfter).toBeGreaterThanOrEqual(1);
  });

  it("5xx faults and an unreachable endpoint → ERR_KMS_UNAVAILABLE", async () => {
    kms = await startLocalKms({ faultRate: 1 });
    const custody = new KeyCustody(kms.client({ maxAttempts: 1 }), {
      region: kms.region,
      allowedRegions: ["eu-west-1"],
    });
    expect(await errorOf(custody.getPublicKey(ARN))).toMatchObject({ code: "ERR_KMS_UNAVAILABLE", status: 503 });
    const endpoint = kms.endpoint;
    const client = kms.client({ maxAttempts: 1 });
    await kms.stop();
    kms = undefined;
    const gone = new KeyCustody(client, { region: "eu-west-1", allowedRegions: ["eu-west-1"] });
    const e = await errorOf(gone.signDigest(ARN, new Uint8Array(32), "RSASSA_PKCS1_V1_5_SHA_256"));
    expect(e.code, `endpoint ${endpoint}`).toBe("ERR_KMS_UNAVAILABLE");
    expect(e.retryAfter).toBeGreaterThanOrEqual(1);
  });
});
