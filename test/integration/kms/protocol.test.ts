import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalKms, type LocalKms } from "../../helpers/kms.js";

/**
 * Wire-level checks of the AWS JSON 1.1 protocol that the SDK hides (header on empty bodies,
 * epoch-second numbers, error bodies for requests the SDK cannot produce). Everything else in
 * this folder goes through @aws-sdk/client-kms.
 */
let kms: LocalKms;

beforeAll(async () => {
  kms = await startLocalKms();
});

afterAll(async () => {
  await kms?.stop();
});

async function call(target: string | undefined, body: string) {
  const headers: Record<string, string> = { "Content-Type": "application/x-amz-json-1.1" };
  if (target) headers["X-Amz-Target"] = target;
  const res = await fetch(kms.endpoint, { method: "POST", headers, body });
  const text = await res.text();
  return { res, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe("AWS JSON 1.1 protocol", () => {
  it("answers with the JSON 1.1 content type and a request id, also on empty bodies; timestamps are epoch-second numbers", async () => {
    const created = await call(
      "TrentService.CreateKey",
      JSON.stringify({ KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY" }),
    );
    expect(created.res.status).toBe(200);
    expect(created.res.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(created.res.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    const creationDate = created.json!.KeyMetadata.CreationDate;
    expect(typeof creationDate).toBe("number");
    expect(Math.abs(creationDate - Date.now() / 1000)).toBeLessThan(600);

    const disabled = await call("TrentService.DisableKey", JSON.stringify({ KeyId: created.json!.KeyMetadata.KeyId }));
    expect(disabled.res.status).toBe(200);
    expect(disabled.text).toBe("");
    expect(disabled.res.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(disabled.res.headers.get("x-amzn-requestid")).toBeTruthy();
  });

  it("an unknown operation is UnknownOperationException (400)", async () => {
    for (const target of ["TrentService.Encrypt2", "Other.CreateKey", undefined]) {
      const { res, json } = await call(target, "{}");
      expect(res.status).toBe(400);
      expect(json).toMatchObject({ __type: "UnknownOperationException" });
      expect(res.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    }
  });

  it("malformed JSON and wrong JSON types are SerializationException (400)", async () => {
    for (const body of ["{not json", "[1,2]", JSON.stringify({ KeyId: 42 })]) {
      const { res, json } = await call("TrentService.DescribeKey", body);
      expect(res.status).toBe(400);
      expect(json).toMatchObject({ __type: "SerializationException", message: expect.any(String) });
    }
  });

  it("a missing required parameter is ValidationException (400)", async () => {
    const { res, json } = await call("TrentService.Sign", JSON.stringify({ SigningAlgorithm: "RSASSA_PSS_SHA_256" }));
    expect(res.status).toBe(400);
    expect(json).toMatchObject({ __type: "ValidationException" });
  });
});
