/**
 * Configuration parsing (server/config.ts): the README's defaults, and a bad value refused at
 * start with a message naming the variable — never silently replaced by a default.
 */
import path from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../server/config.js";
import { DEFAULT_KMS_CALL_TIMEOUT_MS, DEFAULT_REQUEST_DEADLINE_MS } from "../../../server/kms/deadline.js";

const EU = [
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-central-1",
  "eu-central-2",
  "eu-north-1",
  "eu-south-1",
  "eu-south-2",
];

describe("loadConfig", () => {
  it("with an empty environment gives the README's defaults", () => {
    const c = loadConfig({});
    const dataDir = path.resolve(".data");
    expect(c).toEqual({
      port: 8080,
      host: "127.0.0.1",
      dataDir,
      databaseUrl: path.join(dataDir, "kakunin.db"),
      kmsEndpoint: undefined,
      region: "eu-west-1",
      allowedRegions: EU,
      trustDomain: "kakunin.local",
      publicUrl: "http://127.0.0.1:8080",
      bodyLimit: 1_048_576,
      bodyBudget: 67_108_864,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      renewBeforeDays: 30,
      schedulerIntervalMs: 3_600_000,
      operatorToken: undefined,
      logLevel: "info",
      agentValidityDays: 365,
      crlValidityDays: 7,
      serviceRoleArn: undefined,
      witnessDir: path.join(dataDir, "witness"),
      checkpointIntervalMs: 1000,
      logName: "127.0.0.1:8080",
      publicEntries: false,
      tilesDir: undefined,
      kmsSignTransport: "direct",
      kmsCallTimeoutMs: DEFAULT_KMS_CALL_TIMEOUT_MS,
      requestDeadlineMs: DEFAULT_REQUEST_DEADLINE_MS,
      maxClockSkewMs: 60_000,
      clockOffsetFile: undefined,
      monitoring: {
        cloudTrail: undefined,
        reconcileIntervalMs: 300_000,
        cloudTrailTimeoutMs: 10_000,
        webhookUrl: undefined,
        webhookSecret: undefined,
      },
      monitorTimeScale: 1,
    });
  });

  it("derives paths and the public URL from what is set; an empty value counts as unset", () => {
    const c = loadConfig({
      DATA_DIR: "/srv/k",
      HOST: "0.0.0.0",
      PORT: "9000",
      KMS_ENDPOINT: "",
      KAKUNIN_OPERATOR_TOKEN: "",
      KAKUNIN_BODY_LIMIT: "",
    });
    expect([
      c.dataDir,
      c.databaseUrl,
      c.witnessDir,
      c.publicUrl,
      c.port,
      c.kmsEndpoint,
      c.operatorToken,
      c.bodyLimit,
    ]).toEqual([
      "/srv/k",
      "/srv/k/kakunin.db",
      "/srv/k/witness",
      "http://0.0.0.0:9000",
      9000,
      undefined,
      undefined,
      1_048_576,
    ]);
    expect(loadConfig({ KAKUNIN_PUBLIC_URL: "https://kakunin.example.eu///" }).publicUrl).toBe(
      "https://kakunin.example.eu",
    );
    expect(loadConfig({ DATABASE_URL: "postgres://db/k", KAKUNIN_WITNESS_DIR: "/mnt/witness" })).toMatchObject({
      databaseUrl: "postgres://db/k",
      witnessDir: "/mnt/witness",
    });
  });

  it("keeps keys inside the allowed regions (data residency)", () => {
    expect(loadConfig({ AWS_DEFAULT_REGION: "eu-central-1" }).region).toBe("eu-central-1");
    expect(loadConfig({ AWS_REGION: "eu-north-1", AWS_DEFAULT_REGION: "eu-central-1" }).region).toBe("eu-north-1");
    expect(
      loadConfig({ AWS_REGION: "us-east-1", KAKUNIN_ALLOWED_REGIONS: " us-east-1 , ,eu-west-1 " }).allowedRegions,
    ).toEqual(["us-east-1", "eu-west-1"]);
    expect(() => loadConfig({ AWS_REGION: "us-east-1" })).toThrow(
      /AWS_REGION us-east-1 is not in KAKUNIN_ALLOWED_REGIONS/,
    );
    expect(() => loadConfig({ KAKUNIN_ALLOWED_REGIONS: "eu-central-1" })).toThrow(/AWS_REGION eu-west-1/);
  });

  it("takes the KMS Sign transport direct or sdk, nothing else", () => {
    expect(loadConfig({ KAKUNIN_KMS_SIGN_TRANSPORT: "sdk" }).kmsSignTransport).toBe("sdk");
    for (const v of ["SDK", "http", " direct"])
      expect(() => loadConfig({ KAKUNIN_KMS_SIGN_TRANSPORT: v }), v).toThrow(/Invalid KAKUNIN_KMS_SIGN_TRANSPORT/);
  });

  it("refuses a number that is not an integer, or below the variable's minimum, naming the variable", () => {
    const bad: [string, string][] = [
      ["PORT", "http"],
      ["PORT", "-1"],
      ["PORT", "80.5"],
      ["KAKUNIN_BODY_LIMIT", "0"],
      ["KAKUNIN_BODY_BUDGET", "1MB"],
      ["KAKUNIN_KMS_CALL_TIMEOUT_MS", "0"],
      ["KAKUNIN_REQUEST_DEADLINE_MS", "NaN"],
      ["KAKUNIN_MAX_CLOCK_SKEW_MS", "0"],
      ["KAKUNIN_AGENT_VALIDITY_DAYS", "0"],
      ["KAKUNIN_CRL_VALIDITY_DAYS", "Infinity"],
      ["KAKUNIN_RENEW_BEFORE_DAYS", "-5"],
    ];
    for (const [name, value] of bad)
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(
        new RegExp(`^Invalid ${name}: "${value}"`),
      );
  });

  it("0 turns off what may be off (scheduler, cluster checkpoints, renewal lead time) and is refused where a bound is needed", () => {
    expect(
      loadConfig({
        KAKUNIN_SCHEDULER_INTERVAL_MS: "0",
        KAKUNIN_CHECKPOINT_INTERVAL_MS: "0",
        KAKUNIN_RENEW_BEFORE_DAYS: "0",
      }),
    ).toMatchObject({
      schedulerIntervalMs: 0,
      checkpointIntervalMs: 0,
      renewBeforeDays: 0,
    });
    for (const name of [
      "KAKUNIN_BODY_LIMIT",
      "KAKUNIN_REQUEST_TIMEOUT_MS",
      "KAKUNIN_HEADERS_TIMEOUT_MS",
      "KAKUNIN_IDLE_TIMEOUT_MS",
    ]) {
      expect(() => loadConfig({ [name]: "0" }), name).toThrow(/expected an integer >= 1/);
    }
  });

  it("reads any integer within range exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const c = loadConfig({ KAKUNIN_BODY_LIMIT: String(n), KAKUNIN_KMS_CALL_TIMEOUT_MS: String(n) });
        expect([c.bodyLimit, c.kmsCallTimeoutMs]).toEqual([n, n]);
      }),
    );
  });

  it("derives KAKUNIN_LOG_NAME from KAKUNIN_PUBLIC_URL (no scheme) and refuses an invalid one", () => {
    expect(loadConfig({ KAKUNIN_PUBLIC_URL: "https://kakunin.example.eu/" }).logName).toBe("kakunin.example.eu");
    expect(loadConfig({ KAKUNIN_PUBLIC_URL: "https://example.eu/kakunin" }).logName).toBe("example.eu/kakunin");
    expect(loadConfig({ KAKUNIN_LOG_NAME: "log.example/eu" }).logName).toBe("log.example/eu");
    for (const bad of ["has space", "a+b", "trailing/"])
      expect(() => loadConfig({ KAKUNIN_LOG_NAME: bad }), bad).toThrow(/KAKUNIN_LOG_NAME/);
    expect(loadConfig({ KAKUNIN_PUBLIC_ENTRIES: "true" }).publicEntries).toBe(true);
    expect(loadConfig({ KAKUNIN_TILES_DIR: "tiles" }).tilesDir).toBe(path.resolve("tiles"));
  });
});
