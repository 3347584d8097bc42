/**
 * KMS deadlines and error mapping (server/kms/deadline.ts, server/kms/errors.ts): nothing waits
 * past a deadline, and whatever the AWS SDK throws becomes one typed error — 503 with Retry-After
 * for what is worth retrying, 409 for key states, 404, or 502 for a request KMS refused.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { KakuninError, ValidationError } from "../../../server/errors.js";
import {
  CREATE_KEY_MIN_TIMEOUT_MS,
  DEFAULT_KMS_CALL_TIMEOUT_MS,
  DEFAULT_REQUEST_DEADLINE_MS,
  KmsDeadlineError,
  withDeadline,
} from "../../../server/kms/deadline.js";
import {
  KeyStateError,
  KmsFailureError,
  KmsNotFoundError,
  KmsUnavailableError,
  RegionNotAllowedError,
  mapKmsError,
} from "../../../server/kms/errors.js";
import { buildKeyPolicy } from "../../../server/kms/policy.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("withDeadline", () => {
  it("returns what the call returns, and leaves no timer behind", async () => {
    vi.useFakeTimers();
    await expect(withDeadline("Sign", 1000, async () => "signed")).resolves.toBe("signed");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("passes the call's own failure through unchanged", async () => {
    const own = new Error("own");
    await expect(
      withDeadline("Sign", 1000, async () => {
        throw own;
      }),
    ).rejects.toBe(own);
  });

  it("fails at the deadline, not before, even when the call ignores its signal; the signal is aborted with the same error", async () => {
    vi.useFakeTimers();
    let signal: AbortSignal | undefined;
    const outcome = withDeadline("CreateKey", 5000, (s) => {
      signal = s;
      return new Promise<never>(() => {}); // a KMS that never answers
    }).then(
      () => "resolved",
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(4999);
    expect(signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const e = await outcome;
    expect(e).toBeInstanceOf(KmsDeadlineError);
    expect([(e as KmsDeadlineError).name, (e as KmsDeadlineError).code, (e as Error).message]).toEqual([
      "TimeoutError",
      "ETIMEDOUT",
      "KMS CreateKey did not answer within 5000 ms",
    ]);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(e);
  });

  it("a missed deadline maps to 503 ERR_KMS_UNAVAILABLE with Retry-After", () => {
    const mapped = mapKmsError(new KmsDeadlineError("Sign", 2000), "Sign");
    expect(mapped).toBeInstanceOf(KmsUnavailableError);
    expect([mapped.status, mapped.code, mapped.retryAfter]).toEqual([503, "ERR_KMS_UNAVAILABLE", 2]);
  });

  it("the defaults are the documented ones", () => {
    expect([DEFAULT_KMS_CALL_TIMEOUT_MS, CREATE_KEY_MIN_TIMEOUT_MS, DEFAULT_REQUEST_DEADLINE_MS]).toEqual([
      2000, 5000, 5000,
    ]);
  });
});

/** An error shaped like the AWS SDK's (a ServiceException subclass instance). */
function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} message`), { name, $metadata: {}, ...extra });
}

describe("mapKmsError", () => {
  it("leaves a KakuninError as it is", () => {
    const e = new ValidationError("x");
    expect(mapKmsError(e, "Sign")).toBe(e);
  });

  it("key states are 409 ERR_KEY_STATE, naming the operation and the exception, keeping the cause", () => {
    for (const name of ["DisabledException", "KMSInvalidStateException"]) {
      const err = sdkError(name);
      const m = mapKmsError(err, "Sign");
      expect(m).toBeInstanceOf(KeyStateError);
      expect([m.status, m.code, m.message, m.cause]).toEqual([
        409,
        "ERR_KEY_STATE",
        `KMS Sign failed: ${name} (${name} message)`,
        err,
      ]);
    }
  });

  it("a missing key is 404 ERR_KMS_NOT_FOUND", () => {
    const m = mapKmsError(sdkError("NotFoundException"), "DescribeKey");
    expect(m).toBeInstanceOf(KmsNotFoundError);
    expect([m.status, m.code]).toEqual([404, "ERR_KMS_NOT_FOUND"]);
  });

  it("throttling is 503 with Retry-After 1, or what the response's Retry-After header says (whole seconds, at least 1)", () => {
    const t = mapKmsError(sdkError("ThrottlingException"), "Sign");
    expect([t.constructor, t.status, t.code, t.retryAfter]).toEqual([
      KmsUnavailableError,
      503,
      "ERR_KMS_UNAVAILABLE",
      1,
    ]);
    const header = (v: string) =>
      mapKmsError(
        sdkError("ThrottlingException", { $response: { statusCode: 400, headers: { "retry-after": v } } }),
        "Sign",
      ).retryAfter;
    expect([header("7"), header("0.2"), header("0"), header("2.5")]).toEqual([7, 1, 1, 3]);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(header(inTenSeconds)).toBeGreaterThanOrEqual(9);
    expect(header(inTenSeconds)).toBeLessThanOrEqual(11);
    expect(header("soon")).toBe(1);
    // The SDK's own throttling flag counts, whatever the name.
    expect(mapKmsError(sdkError("SomethingElse", { $retryable: { throttling: true } }), "Sign").retryAfter).toBe(1);
  });

  it("server faults, 5xx and the SDK's retryable names are 503 with Retry-After 2", () => {
    const unavailable = [
      sdkError("KMSInternalException"),
      sdkError("DependencyTimeoutException"),
      sdkError("KeyUnavailableException"),
      sdkError("InternalFailure"),
      sdkError("TimeoutError"),
      sdkError("Whatever", { $fault: "server" }),
      sdkError("Whatever", { $metadata: { httpStatusCode: 500 } }),
      sdkError("Whatever", { $response: { statusCode: 503 } }),
    ];
    for (const e of unavailable) {
      const m = mapKmsError(e, "Sign");
      expect([m.constructor, m.status, m.retryAfter], e.name).toEqual([KmsUnavailableError, 503, 2]);
    }
  });

  it("network failures are 503, found in the error or in its causes", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "UND_ERR_SOCKET"]) {
      expect(mapKmsError(Object.assign(new Error("x"), { code }), "Sign").status, code).toBe(503);
      const wrapped = new Error("fetch failed", {
        cause: new Error("inner", { cause: Object.assign(new Error("socket"), { code }) }),
      });
      expect(mapKmsError(wrapped, "Sign").status, `${code} in a cause`).toBe(503);
    }
  });

  it("a request KMS refused is 502 ERR_KMS_FAILURE naming the AWS exception, never retried as unavailable", () => {
    for (const name of [
      "AccessDeniedException",
      "ValidationException",
      "InvalidKeyUsageException",
      "UnsupportedOperationException",
    ]) {
      const m = mapKmsError(sdkError(name, { $fault: "client", $metadata: { httpStatusCode: 400 } }), "Sign");
      expect(m).toBeInstanceOf(KmsFailureError);
      expect([m.status, m.code, (m as KmsFailureError).awsCode]).toEqual([502, "ERR_KMS_FAILURE", name]);
    }
    const odd = mapKmsError("not an error object", "Sign");
    expect([odd.constructor, odd.status, (odd as KmsFailureError).awsCode]).toEqual([KmsFailureError, 502, "Error"]);
  });

  it("anything at all maps to a typed error with a status the API documents; 503s always carry Retry-After ≥ 1", () => {
    const names = fc.constantFrom(
      "ThrottlingException",
      "DisabledException",
      "NotFoundException",
      "AccessDeniedException",
      "KMSInternalException",
      "X",
      "",
    );
    const thing = fc.oneof(
      fc.record(
        {
          name: names,
          code: fc.constantFrom("ECONNRESET", "EPERM", "SQLITE_FULL"),
          message: fc.string(),
          $fault: fc.constantFrom("client", "server"),
          $metadata: fc.record({ httpStatusCode: fc.integer({ min: 100, max: 599 }) }),
          $response: fc.record({
            statusCode: fc.integer({ min: 100, max: 599 }),
            headers: fc.dictionary(fc.constantFrom("retry-after", "Retry-After", "x"), fc.string()),
          }),
          $retryable: fc.record({ throttling: fc.boolean() }),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(thing, (err) => {
        const m = mapKmsError(err, "Sign");
        expect(m).toBeInstanceOf(KakuninError);
        expect([404, 409, 502, 503]).toContain(m.status);
        if (m.status === 503) expect(Number.isInteger(m.retryAfter) && m.retryAfter! >= 1).toBe(true);
        else expect(m.retryAfter).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it("RegionNotAllowedError names the region and the allowed list", () => {
    const e = new RegionNotAllowedError("us-east-1", ["eu-west-1", "eu-central-1"]);
    expect([e.status, e.code, e.region, e.message]).toEqual([
      400,
      "ERR_REGION_NOT_ALLOWED",
      "us-east-1",
      "KMS region us-east-1 is not in the allowed regions (eu-west-1, eu-central-1)",
    ]);
  });
});

describe("buildKeyPolicy", () => {
  it("lets the service role sign, read and disable — never delete or re-policy — and the account administer without deleting", () => {
    const role = "arn:aws:iam::111122223333:role/kakunin-service";
    const p = JSON.parse(
      buildKeyPolicy({ accountId: "111122223333", serviceRoleArn: role, purpose: "agent", region: "eu-west-1" }),
    );
    expect(p.Id).toBe("kakunin-agent-key");
    const bySid = Object.fromEntries(p.Statement.map((s: { Sid: string }) => [s.Sid, s]));
    expect(bySid.KakuninServiceUse).toMatchObject({
      Effect: "Allow",
      Principal: { AWS: role },
      Action: ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey", "kms:DisableKey"],
    });
    expect(bySid.KakuninServiceNeverDeletesOrRepolicies).toMatchObject({
      Effect: "Deny",
      Principal: { AWS: role },
      Action: ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"],
    });
    const admin = bySid.AccountAdministrationExceptDeletion;
    expect(admin.Principal).toEqual({ AWS: "arn:aws:iam::111122223333:root" });
    expect(admin.Action.some((a: string) => /Sign|Verify|ScheduleKeyDeletion|Delete/.test(a))).toBe(false);
    expect(p.Statement.length).toBe(3);
  });

  it("refuses an account id that is not 12 digits", () => {
    for (const accountId of ["", "11112222333", "1111222233334", "11112222333a"]) {
      expect(
        () =>
          buildKeyPolicy({
            accountId,
            serviceRoleArn: "arn:aws:iam::111122223333:role/r",
            purpose: "ca",
            region: "eu-west-1",
          }),
        accountId,
      ).toThrow(/12 digits/);
    }
  });
});
