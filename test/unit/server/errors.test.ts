/**
 * Domain errors (server/errors.ts): stable codes and statuses, the problem `type` URI derived from
 * the code, and the one rule that turns a database's "out of space" into 507 ERR_STORAGE_FULL.
 */
import { describe, expect, it } from "vitest";
import {
  ConflictError,
  ForbiddenError,
  KakuninError,
  KeyStateError,
  KmsUnavailableError,
  NotFoundError,
  OverloadedError,
  PayloadTooLargeError,
  StorageFullError,
  UnauthorizedError,
  ValidationError,
  problemType,
  storageFailure,
} from "../../../server/errors.js";

describe("KakuninError and its kinds", () => {
  it("carry the documented status, code and Retry-After", () => {
    const rows = [
      [new ValidationError("v"), 400, "ERR_VALIDATION", undefined],
      [
        new ValidationError("v", { status: 422, code: "ERR_INVALID_NAME", field: "name" }),
        422,
        "ERR_INVALID_NAME",
        undefined,
      ],
      [new UnauthorizedError(), 401, "ERR_UNAUTHORIZED", undefined],
      [new ForbiddenError(), 403, "ERR_FORBIDDEN", undefined],
      [new NotFoundError(), 404, "ERR_NOT_FOUND", undefined],
      [new NotFoundError("agent", "ERR_AGENT_NOT_FOUND"), 404, "ERR_AGENT_NOT_FOUND", undefined],
      [new ConflictError("ERR_ALREADY_REVOKED", "x"), 409, "ERR_ALREADY_REVOKED", undefined],
      [new KeyStateError("x"), 409, "ERR_KEY_STATE", undefined],
      [new PayloadTooLargeError(10), 413, "ERR_PAYLOAD_TOO_LARGE", undefined],
      [new KmsUnavailableError(), 503, "ERR_KMS_UNAVAILABLE", 1],
      [new OverloadedError(), 503, "ERR_OVERLOADED", 1],
      [new StorageFullError(), 507, "ERR_STORAGE_FULL", 30],
    ] as const;
    for (const [e, status, code, retryAfter] of rows) {
      expect(e).toBeInstanceOf(KakuninError);
      expect([e.status, e.code, e.retryAfter], e.name).toEqual([status, code, retryAfter]);
      expect(e.name).toBe(e.constructor.name);
    }
    expect(new ValidationError("v", { field: "payload" }).field).toBe("payload");
    expect(new PayloadTooLargeError(1048576).message).toBe("Request body exceeds 1048576 bytes");
  });

  it("keeps a cause only when one is given", () => {
    const cause = new Error("root");
    expect(new KmsUnavailableError("x", 2, cause).cause).toBe(cause);
    expect("cause" in new KmsUnavailableError("x", 2)).toBe(false);
  });
});

describe("problemType", () => {
  it("is a URI per code: ERR_ dropped, lowercase, hyphens", () => {
    expect(problemType("ERR_ALREADY_REVOKED")).toBe("https://kakunin.dev/problems/already-revoked");
    expect(problemType("ERR_KMS_UNAVAILABLE")).toBe("https://kakunin.dev/problems/kms-unavailable");
    expect(problemType("ERR_NOT_FOUND")).toBe("https://kakunin.dev/problems/not-found");
  });
});

describe("storageFailure", () => {
  it("recognises SQLite, PostgreSQL and OS out-of-space errors, also as a cause", () => {
    for (const code of ["SQLITE_FULL", "SQLITE_IOERR_WRITE", "53100", "ENOSPC"]) {
      const direct = storageFailure(Object.assign(new Error("x"), { code }));
      expect([direct?.status, direct?.code], code).toEqual([507, "ERR_STORAGE_FULL"]);
      const wrapped = new Error("commit failed", {
        cause: new Error("inner", { cause: Object.assign(new Error("disk"), { code }) }),
      });
      expect(storageFailure(wrapped)?.code, `${code} as a cause`).toBe("ERR_STORAGE_FULL");
    }
  });

  it("passes a StorageFullError through and says nothing of other errors", () => {
    const full = new StorageFullError();
    expect(storageFailure(full)).toBe(full);
    for (const e of [
      new Error("x"),
      Object.assign(new Error("x"), { code: "SQLITE_BUSY" }),
      Object.assign(new Error("x"), { code: "23505" }),
      undefined,
      null,
      "ENOSPC",
    ]) {
      expect(storageFailure(e)).toBeUndefined();
    }
  });
});
